"""Backlog import benchmark (issue 4): `disposisi classify` on a generated 1,000,000-row backlog.

Generates a backlog CSV from the shared texts (LAPOR! + KAI121 tweets, repeated with variations)
in a temp dir, classifies it with the real CLI, and prints rows/s, wall time and peak RSS of the
whole process tree (parent + workers, sampled from /proc). Then the naive baseline on a slice:
pandas.read_csv of the whole slice, one ``model.suggest([text])`` per row, measured the same way.
If the baseline would take too long it runs for --baseline-seconds and is extrapolated (said so).

    python -m bench.bench_backlog --shared ../shared/data --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = ["", "", "Mohon bantuan, ", "Yth. admin, ", "Tolong ditindaklanjuti: ", "Lapor, "]
SUFFIXES = ["", "", " Terima kasih.", " Sudah lama tidak ditanggapi.", " Mohon segera.", " Warga RT {n:02d}."]


def shared_texts(shared: Path) -> list[str]:
    texts = []
    for path in (shared / "lapor" / "kab_bandung_2021_2023.csv", shared / "kai121" / "kai121_tweets.csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            texts += [r["text"] for r in csv.DictReader(fh) if r["text"].strip()]
    return texts


def make_backlog(shared: Path, rows: int, path: Path, seed: int = 0) -> None:
    texts = shared_texts(shared)
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "text"])
        for i in range(rows):
            text = rnd.choice(PREFIXES) + rnd.choice(texts) + rnd.choice(SUFFIXES).format(n=rnd.randrange(1, 30))
            w.writerow(
                [
                    f"BL-{i:07d}",
                    f"20{rnd.randrange(19, 24)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}",
                    text,
                ]
            )


def _tree_rss(root: int) -> int:
    """Sum of VmRSS (bytes) over ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def measure(cmd: list[str]) -> dict:
    """Run ``cmd``; wall time, peak RSS of its process tree, exit code and stdout."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.2)
    out, err = proc.communicate()
    return {"seconds": time.monotonic() - start, "peak_rss": peak, "rc": proc.returncode, "stdout": out, "stderr": err}


def _baseline(model_dir: str, csv_path: str, max_seconds: float) -> None:
    """The naive way, in this (child) process: whole file in memory, one suggest call per row."""
    import pandas as pd

    from routing_model.artifact import persistence

    start = time.monotonic()
    model = persistence.load(model_dir)
    loaded = time.monotonic()
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    read = time.monotonic()
    done = 0
    for text in frame["text"]:
        model.suggest([text], k=3, n_reasons=0)
        done += 1
        if time.monotonic() - read > max_seconds:
            break
    end = time.monotonic()
    print(
        json.dumps(
            {
                "rows": len(frame),
                "done": done,
                "load_s": loaded - start,
                "read_s": read - loaded,
                "classify_s": end - read,
            }
        )
    )


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=100_000)
    ap.add_argument(
        "--baseline-seconds", type=float, default=120.0, help="stop the naive baseline after this long and extrapolate"
    )
    ap.add_argument("--model", default=None, help="model dir (default: train one on the demo data)")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--keep", default=None, help="keep the generated files in this dir")
    ap.add_argument("--_baseline", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._baseline:
        _baseline(args._baseline[0], args._baseline[1], float(args._baseline[2]))
        return

    shared = Path(args.shared)
    if not shared.is_absolute():
        shared = (ROOT / shared).resolve() if not shared.exists() else shared.resolve()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_backlog_"))
    work.mkdir(parents=True, exist_ok=True)
    model_dir = args.model
    if model_dir is None:
        from training.train import train_and_save

        model_dir = str(work / "model")
        t = time.monotonic()
        train_and_save(ROOT / "data" / "demo" / "demo_complaints.csv", model_dir)
        print(f"trained the demo model in {time.monotonic() - t:.0f} s")

    backlog = work / "backlog.csv"
    t = time.monotonic()
    make_backlog(shared, args.rows, backlog)
    print(f"generated {args.rows:,} rows ({backlog.stat().st_size / 2**20:,.0f} MiB) in {time.monotonic() - t:.0f} s")

    disposisi = str(Path(sys.executable).parent / "disposisi")
    cmd = [
        disposisi,
        "classify",
        "--model",
        model_dir,
        "--input",
        str(backlog),
        "--output",
        str(work / "out.csv"),
        "--quiet",
    ]
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    if args.chunk_size:
        cmd += ["--chunk-size", str(args.chunk_size)]
    run = measure(cmd)
    if run["rc"] != 0:
        print(run["stderr"])
        raise SystemExit(f"classify failed with exit code {run['rc']}")
    rate = args.rows / run["seconds"]
    print(
        f"backlog classify : {args.rows:,} rows in {run['seconds']:,.1f} s = {rate:,.0f} rows/s, "
        f"peak RSS (process tree) {_mib(run['peak_rss'])}  [targets: >= 5,000 rows/s, < 1,024 MiB]"
    )

    n = min(args.baseline_rows, args.rows)
    sliced = work / "slice.csv"
    with open(backlog, encoding="utf-8", newline="") as src, open(sliced, "w", encoding="utf-8", newline="") as dst:
        for _, line in zip(range(n + 1), src):
            dst.write(line)
    base = measure(
        [sys.executable, "-m", "bench.bench_backlog", "--_baseline", model_dir, str(sliced), str(args.baseline_seconds)]
    )
    if base["rc"] != 0:
        print(base["stderr"])
        raise SystemExit("baseline failed")
    b = json.loads(base["stdout"].strip().splitlines()[-1])
    per_row = b["classify_s"] / max(b["done"], 1)
    base_total = b["load_s"] + b["read_s"] + per_row * b["rows"]
    base_rate = b["rows"] / base_total
    note = (
        ""
        if b["done"] == b["rows"]
        else f" (extrapolated from {b['done']:,} rows classified in {b['classify_s']:.0f} s)"
    )
    print(
        f"naive baseline   : {b['rows']:,} rows in {base_total:,.1f} s = {base_rate:,.0f} rows/s, "
        f"peak RSS {_mib(base['peak_rss'])}{note}"
    )
    print(f"speed-up         : {rate / base_rate:,.1f}x rows/s")
    summary = run_summary(work / "out.csv")
    print(f"output           : {summary}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def run_summary(out: Path) -> str:
    with open(out, "rb") as fh:
        lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 22), b""))
    return f"{out.stat().st_size / 2**20:,.0f} MiB, ~{lines - 1:,} data lines"


if __name__ == "__main__":
    main()
