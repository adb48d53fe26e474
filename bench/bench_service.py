"""Load test of `disposisi serve` on loopback: p50/p99 latency, requests/s, server memory.

Starts the server as its own process (gunicorn, default workers: one per core), then drives
/v1/suggest from a separate load-generating process (threads with keep-alive connections)
with real complaint texts from the shared LAPOR! data, against a model trained on that data.
A warm-up phase, then one phase per client concurrency (1, 2, 4, 8 requests in flight), 20,000
requests in all; the server's memory (PSS of master + workers) is compared between the end of
the warm-up and the end, and each worker's RSS, PSS and USS (median over the workers, after the
warm-up and at the end; ``bench.procmem`` says what each counts) next to the issue's target of
200 MB per worker. Then a slow-client phase: 50 sockets (``--slow-clients``) that connect
and send nothing, half a request head, or a head and half its body, kept open (reopened when
the server drops them), while /v1/suggest (2 in flight) and /healthz (a new connection per
request) are measured again. By Little's law p50 can only stay under 10 ms at 300 req/s while at most
about 3 requests are in flight, so every concurrency is printed, not one chosen figure.
Bounded in count and time; talks to 127.0.0.1 only.

    python -m bench.bench_service [--model DIR] [--shared ../shared/data] [--requests 20000] [--slow-clients 50]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.procmem import Memory

ROOT = Path(__file__).resolve().parent.parent
LAPOR = Path("lapor") / "kab_bandung_2021_2023.csv"


# -- load-generating process --------------------------------------------------------------------
def client_main(spec: dict) -> None:
    """Run in a child process: send spec['n'] requests with spec['concurrency'] threads; print JSON."""
    texts = spec["texts"]
    n, conc, deadline = spec["n"], spec["concurrency"], time.monotonic() + spec["time_limit"]
    lock = threading.Lock()
    counter = {"next": 0}
    latencies: list[float] = []
    errors: list[str] = []

    path, fresh = spec.get("path", "/v1/suggest"), spec.get("fresh", False)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=30)
        local = []
        while time.monotonic() < deadline:
            with lock:
                i = counter["next"]
                if i >= n:
                    break
                counter["next"] += 1
            body = json.dumps({"text": texts[i % len(texts)], "id": i}).encode()
            t0 = time.perf_counter()
            try:
                if fresh:  # a new connection for each request: the accept is measured too
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=30)
                if path == "/v1/suggest":
                    conn.request("POST", path, body, {"Content-Type": "application/json"})
                else:
                    conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=30)
                continue
            local.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(str(status))
        conn.close()
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "latencies": latencies,
                "errors": errors[:20],
                "n_errors": len(errors),
                "wall": wall,
                "timed_out": counter["next"] < n,
            }
        )
    )


def run_client(
    port: int,
    texts: list[str],
    n: int,
    concurrency: int,
    time_limit: float,
    path: str = "/v1/suggest",
    fresh: bool = False,
) -> dict:
    spec = {
        "port": port,
        "texts": texts,
        "n": n,
        "concurrency": concurrency,
        "time_limit": time_limit,
        "path": path,
        "fresh": fresh,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--client-spec", fh.name],
            capture_output=True,
            text=True,
            timeout=time_limit + 120,
            check=True,
        )
    finally:
        os.unlink(fh.name)
    return json.loads(out.stdout)


# -- slow clients ---------------------------------------------------------------------------------
SLOW_KINDS = (
    b"",  # connects and sends nothing
    b"POST /v1/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applica",  # half a request head
    b"POST /v1/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 1000\r\n\r\n{"text": "jalan rus',  # a head and half its body
)


class SlowClients:
    """``n`` sockets that never finish a request, kept open: one the server closes is reopened."""

    def __init__(self, port: int, n: int):
        self.port, self.n = port, n
        self.socks: list[tuple[socket.socket, bytes]] = []
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, daemon=True)

    def _open(self, i: int) -> tuple[socket.socket, bytes]:
        kind = SLOW_KINDS[i % len(SLOW_KINDS)]
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if kind:
            sock.sendall(kind)
        sock.setblocking(False)
        return sock, kind

    def __enter__(self) -> SlowClients:
        self.socks = [self._open(i) for i in range(self.n)]
        self._thread.start()
        return self

    def _keep(self) -> None:
        while not self._stop.wait(0.2):
            for i, (sock, _) in enumerate(self.socks):
                try:
                    sock.recv(65536)  # anything or EOF: the server answered (408/400) or closed it
                except BlockingIOError:
                    continue  # still held open by the server
                except OSError:
                    pass
                sock.close()
                self.socks[i] = self._open(i)
                self.reopened += 1

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock, _ in self.socks:
            sock.close()


# -- orchestration ------------------------------------------------------------------------------
def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:  # the process ended
        pass
    return 0


def _server_pids(pid: int) -> list[int]:
    """The server process and its worker processes."""
    from bench.procmem import children

    return [pid, *children(pid)]


def _pss_mib(pids: list[int]) -> float:
    """Memory of the whole server: proportional set size, so pages the forked workers share
    with the master are counted once in the sum, not once per process as RSS would."""
    from bench.procmem import memory

    total = 0.0
    for pid in pids:
        try:
            total += memory(pid).pss
        except OSError:  # the process ended
            pass
    return total * 1e6 / 2**20


def _worker_memory(pids: list[int]) -> Memory:
    """Median RSS, PSS and USS over the worker processes: the master's children now (a worker
    gunicorn restarted has a new pid)."""
    from bench.procmem import children, median, memory

    return median([memory(pid) for pid in children(pids[0])])


def _peak_rss_mib(pids: list[int]) -> float:
    return max(_status_kb(p, "VmHWM") for p in pids) / 1024


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _texts(shared: Path) -> list[str]:
    path = shared / LAPOR
    if not path.is_file():
        raise SystemExit(f"bench_service: {path} not found (pass --shared)")
    with open(path, newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh) if row.get("text", "").strip()]
    return [t[:20_000] for t in texts]


def _model_dir(arg: str | None, shared: Path, workdir: Path) -> Path:
    if arg:
        return Path(arg)
    from routing_model import Registry
    from routing_model.artifact import persistence
    from training.train import DEFAULT_CLASSIFIER_PARAMS, load_labeled, train_model

    out = workdir / "model"
    print("training a model on the shared LAPOR! data (pass --model DIR to skip) ...", flush=True)
    registry = Registry.load()
    model = train_model(load_labeled(shared / LAPOR, registry), registry, DEFAULT_CLASSIFIER_PARAMS)
    persistence.save(model, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model directory (default: train one on the shared LAPOR! data)")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--warmup-requests", type=int, default=2_000, help="first phase; RSS growth is measured after it")
    ap.add_argument("--concurrency", default="1,2,4,8", help="client concurrency of each measured phase")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: the server's own)")
    ap.add_argument(
        "--worker-class", default=None, help="server worker class, gevent or sync (default: the server's own)"
    )
    ap.add_argument(
        "--slow-clients", type=int, default=50, help="idle/half-open sockets held in the slow-client phase (0: skip it)"
    )
    ap.add_argument(
        "--slow-requests", type=int, default=2_000, help="/v1/suggest requests measured in the slow-client phase"
    )
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per phase at most")
    ap.add_argument("--client-spec", help=argparse.SUPPRESS)
    args, _unknown = ap.parse_known_args(argv)  # tolerate options meant for a bench runner that calls main()
    if args.client_spec:
        client_main(json.loads(Path(args.client_spec).read_text()))
        return 0
    from service.launch import ServeProcess, ServerStartError  # not in the lean load-generating child

    shared = Path(args.shared)
    texts = _texts(shared)
    levels = [int(c) for c in args.concurrency.split(",")]
    per_phase = (args.requests - args.warmup_requests) // len(levels)
    with tempfile.TemporaryDirectory(prefix="disposisi-bench-") as tmp:
        workdir = Path(tmp)
        model = _model_dir(args.model, shared, workdir)
        serve_args = ["--model", str(model)]
        if args.workers:
            serve_args += ["--workers", str(args.workers)]
        if args.worker_class:
            serve_args += ["--worker-class", args.worker_class]
        server = ServeProcess(serve_args, workdir / "server.log", {"DISPOSISI_DATA_DIR": str(workdir / "var")})
        port = server.port
        phases = []
        try:
            try:
                server.wait_ready(120)
            except ServerStartError as exc:
                raise SystemExit(f"bench_service: {exc}") from None
            pids = _server_pids(server.proc.pid)
            mem_start = _pss_mib(pids)
            warm = run_client(port, texts, args.warmup_requests, max(levels), args.time_limit)
            mem_warm, worker_warm = _pss_mib(pids), _worker_memory(pids)
            for conc in levels:
                phases.append((conc, run_client(port, texts, per_phase, conc, args.time_limit)))
            mem_end, peak, worker_end = _pss_mib(pids), _peak_rss_mib(pids), _worker_memory(pids)
            slow = None
            if args.slow_clients > 0:
                with SlowClients(port, args.slow_clients) as held:
                    time.sleep(1.0)  # let the server accept them all first
                    slow = {
                        "suggest": run_client(port, texts, args.slow_requests, 2, min(args.time_limit, 120)),
                        "healthz": run_client(
                            port,
                            texts,
                            max(100, args.slow_requests // 4),
                            1,
                            min(args.time_limit, 120),
                            path="/healthz",
                            fresh=True,
                        ),
                    }
                    slow["reopened"] = held.reopened
        finally:
            server.stop(timeout=30)
            banner = [
                line
                for line in (workdir / "server.log").read_text(errors="replace").splitlines()
                if line.startswith("disposisi serve:")
            ][:1]

    done = len(warm["latencies"]) + sum(len(p["latencies"]) for _, p in phases)
    errors = warm["n_errors"] + sum(p["n_errors"] for _, p in phases)
    print(f"POST /v1/suggest, {len(texts)} real LAPOR! texts, model trained on the shared LAPOR! data")
    print(f"  server         {banner[0] if banner else '?'}")
    print(
        f"  requests done  {done:,} of {args.requests:,}  errors {errors}"
        f"{'  (stopped by --time-limit)' if any(p['timed_out'] for _, p in [(0, warm), *phases]) else ''}"
    )
    print("  in flight   p50 ms   p99 ms    req/s     (targets: p50 < 10 ms, >= 300 req/s)")
    for conc, p in phases:
        lat = p["latencies"]
        rps = len(lat) / p["wall"] if p["wall"] else 0.0
        print(f"  {conc:9d} {_pct(lat, 0.50) * 1000:8.1f} {_pct(lat, 0.99) * 1000:8.1f} {rps:8.0f}")
    print(
        f"  server memory  {len(pids)} processes, PSS in all: start {mem_start:.0f} MiB, after {len(warm['latencies']):,} "
        f"requests {mem_warm:.0f} MiB, end {mem_end:.0f} MiB; peak RSS of one process (VmHWM) {peak:.0f} MiB"
    )
    print(f"  memory growth  {mem_end - mem_warm:+.1f} MiB over the last {done - len(warm['latencies']):,} requests")
    from bench.procmem import TARGET_MB

    for when, mem in ((f"after {len(warm['latencies']):,} requests", worker_warm), ("at the end", worker_end)):
        print(
            f"  one worker     {mem.line()}  (median over the workers {when}; target < {TARGET_MB} MB: "
            f"PSS {'met' if mem.pss < TARGET_MB else 'NOT met'}, USS {'met' if mem.uss < TARGET_MB else 'NOT met'}, "
            f"RSS {'met' if mem.rss < TARGET_MB else 'NOT met'})"
        )
    if slow is not None:
        print(
            f"  slow clients   {args.slow_clients} sockets held open sending nothing, half a head, or a head and half a body "
            f"({slow['reopened']} reopened after the server dropped them)"
        )
        for name, p in (
            ("/v1/suggest, 2 in flight", slow["suggest"]),
            ("/healthz, new connection each", slow["healthz"]),
        ):
            lat = p["latencies"]
            rps = len(lat) / p["wall"] if p["wall"] else 0.0
            print(
                f"    {name:30s} p50 {_pct(lat, 0.50) * 1000:6.1f} ms  p99 {_pct(lat, 0.99) * 1000:6.1f} ms  {rps:6.0f} req/s  "
                f"{len(lat):,} done, {p['n_errors']} errors{'  (stopped by the time limit)' if p['timed_out'] else ''}  (target p99 < 100 ms)"
            )
    first = (warm["errors"] + [e for _, p in phases for e in p["errors"]])[:5]
    if first:
        print(f"  first errors   {first}")
    return 0


if __name__ == "__main__":
    if "--client-spec" not in sys.argv:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
