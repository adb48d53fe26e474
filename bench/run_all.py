"""`make bench`: every benchmark in one run, figures printed."""

from __future__ import annotations

import argparse
import importlib

BENCHES = [
    "bench.bench_preprocess",
    "bench.bench_training",
    "bench.bench_service",
    "bench.bench_backlog",
    "bench.bench_desk",
    "bench.bench_regions",
    "bench.bench_storage",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--only", default=None, help="run one benchmark module, e.g. bench.bench_preprocess")
    ap.add_argument(
        "--storage-rows",
        type=int,
        default=100_000,
        help="complaints bench_storage generates in PostgreSQL (the issue's figure: 2000000, about 25 minutes here)",
    )
    args = ap.parse_args()
    for name in [args.only] if args.only else BENCHES:
        print(f"\n=== {name}")
        module = importlib.import_module(name)
        extra = ["--rows", str(args.storage_rows)] if name == "bench.bench_storage" else []
        module.main(["--shared", args.shared, *extra])


if __name__ == "__main__":
    main()
