"""Load test of `disposisi serve` on loopback: p50/p99 latency, requests/s, server RSS.

Starts the server as its own process, then drives /v1/suggest from a separate load-generating
process (threads with keep-alive connections) with real complaint texts from the shared LAPOR!
data. Two phases (2,000 then 18,000 requests) so the server's RSS can be compared between them.
Bounded in count and time; talks to 127.0.0.1 only.

    python -m bench.bench_service [--model DIR] [--shared ../shared/data] [--requests 20000]
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
                conn.request("POST", "/v1/suggest", body, {"Content-Type": "application/json"})
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
    print(json.dumps({"latencies": latencies, "errors": errors[:20], "n_errors": len(errors), "wall": wall,
                      "timed_out": counter["next"] < n}))


def run_client(port: int, texts: list[str], n: int, concurrency: int, time_limit: float) -> dict:
    spec = {"port": port, "texts": texts, "n": n, "concurrency": concurrency, "time_limit": time_limit}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        out = subprocess.run([sys.executable, __file__, "--client-spec", fh.name], capture_output=True, text=True,
                             timeout=time_limit + 120, check=True)
    finally:
        os.unlink(fh.name)
    return json.loads(out.stdout)


# -- orchestration ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


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


def _model_dir(arg: str | None, workdir: Path) -> Path:
    if arg:
        return Path(arg)
    demo = ROOT / "models" / "demo"
    if (demo / "card.json").is_file():
        return demo
    from training.train import train_and_save

    out = workdir / "model"
    print("training the demo model (no --model given, models/demo missing) ...", flush=True)
    train_and_save(ROOT / "data" / "demo" / "demo_complaints.csv", out)
    return out


def _wait_ready(base_port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench_service: server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("bench_service: server not ready in time")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model directory (default: models/demo, trained from the demo data if missing)")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--warmup-requests", type=int, default=2_000, help="first phase; RSS growth is measured after it")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--threads", type=int, default=4, help="server threads")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per phase at most")
    ap.add_argument("--client-spec", help=argparse.SUPPRESS)
    args, _unknown = ap.parse_known_args(argv)  # tolerate options meant for a bench runner that calls main()
    if args.client_spec:
        client_main(json.loads(Path(args.client_spec).read_text()))
        return 0

    texts = _texts(Path(args.shared))
    with tempfile.TemporaryDirectory(prefix="disposisi-bench-") as tmp:
        workdir = Path(tmp)
        model = _model_dir(args.model, workdir)
        port = _free_port()
        exe = Path(sys.executable).parent / "disposisi"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "commands.main"]
        env = {**os.environ, "DISPOSISI_DATA_DIR": str(workdir / "var")}
        log = open(workdir / "server.log", "wb")
        proc = subprocess.Popen([*cmd, "serve", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
                                 "--threads", str(args.threads)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(port, proc)
            rss_start = _status_kb(proc.pid, "VmRSS")
            warm = run_client(port, texts, args.warmup_requests, args.concurrency, args.time_limit)
            rss_warm = _status_kb(proc.pid, "VmRSS")
            main_phase = run_client(port, texts, args.requests - args.warmup_requests, args.concurrency, args.time_limit)
            rss_end = _status_kb(proc.pid, "VmRSS")
            hwm = _status_kb(proc.pid, "VmHWM")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

    lat = warm["latencies"] + main_phase["latencies"]
    wall = warm["wall"] + main_phase["wall"]
    p50, p99 = _pct(lat, 0.50) * 1000, _pct(lat, 0.99) * 1000
    rps = len(lat) / wall if wall else 0.0
    steady_rps = len(main_phase["latencies"]) / main_phase["wall"] if main_phase["wall"] else 0.0
    print(f"POST /v1/suggest, {len(texts)} real LAPOR! texts, concurrency {args.concurrency}, server threads {args.threads}")
    print(f"  requests done  {len(lat):,} of {args.requests:,}  errors {warm['n_errors'] + main_phase['n_errors']}"
          f"{'  (stopped by --time-limit)' if warm['timed_out'] or main_phase['timed_out'] else ''}")
    print(f"  latency        p50 {p50:.1f} ms  p99 {p99:.1f} ms   (target p50 < 10 ms)")
    print(f"  throughput     {rps:.0f} req/s overall, {steady_rps:.0f} req/s after warm-up   (target >= 300 req/s)")
    print(f"  server RSS     start {rss_start / 1024:.0f} MiB, after {len(warm['latencies']):,} req {rss_warm / 1024:.0f} MiB, "
          f"end {rss_end / 1024:.0f} MiB, peak (VmHWM) {hwm / 1024:.0f} MiB")
    print(f"  RSS growth     {(rss_end - rss_warm) / 1024:+.1f} MiB between {len(warm['latencies']):,} and {len(lat):,} requests")
    if warm["errors"] or main_phase["errors"]:
        print(f"  first errors   {(warm['errors'] + main_phase['errors'])[:5]}")
    return 0


if __name__ == "__main__":
    if "--client-spec" not in sys.argv:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
