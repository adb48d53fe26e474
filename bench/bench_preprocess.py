"""Preprocessing throughput vs PySastrawi's own stemmer, each in a fresh process, one run.

Library imports are done before the clock starts in both processes (scikit-learn's import alone
is ~2 s and does not grow with the number of texts); building the stemmer and every cache is
inside the timed part, from cold.

Texts: the shared LAPOR complaints and KAI121 tweets repeated to 50,000. Also times training
on the shared LAPOR data (target: under a minute).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

N_TEXTS = 50_000

_WORKER = r"""
import json, sys, time
import pandas as pd
shared, which, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = pd.read_csv(f"{shared}/lapor/kab_bandung_2021_2023.csv", dtype=str, keep_default_na=False)["text"].tolist()
texts += pd.read_csv(f"{shared}/kai121/kai121_tweets.csv", dtype=str, keep_default_na=False)["text"].tolist()
texts = (texts * (n // len(texts) + 1))[:n]
t0 = time.perf_counter()
if which == "sastrawi":
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory
else:
    from routing_model.model.fit.preprocess import ComplaintPreprocessor
imported = time.perf_counter() - t0
# Timed: building the stemmer / fitting the preprocessor (cold caches) and processing every text.
start = time.perf_counter()
if which == "sastrawi":
    stemmer = StemmerFactory().create_stemmer()
    out = [stemmer.stem(t) for t in texts]
else:
    out = ComplaintPreprocessor(n_jobs=-1).fit().transform(texts)
seconds = time.perf_counter() - start
print(json.dumps({"which": which, "docs": len(out), "seconds": seconds, "import_seconds": imported}))
"""


def run_fresh(shared: str, which: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _WORKER, shared, which, str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--n", type=int, default=N_TEXTS)
    args = ap.parse_args(argv)
    base = run_fresh(args.shared, "sastrawi", args.n)
    ours = run_fresh(args.shared, "disposisi", args.n)
    b_rate, o_rate = base["docs"] / base["seconds"], ours["docs"] / ours["seconds"]
    print(f"preprocess {args.n} texts, fresh processes, same run:")
    print(
        f"  PySastrawi stem(text):           {b_rate:10,.0f} docs/s  ({base['seconds']:.2f} s; import {base['import_seconds']:.2f} s, not timed)"
    )
    print(
        f"  Disposisi ComplaintPreprocessor: {o_rate:10,.0f} docs/s  ({ours['seconds']:.2f} s; import {ours['import_seconds']:.2f} s, not timed)"
    )
    print(
        f"  ratio: {o_rate / b_rate:.1f}x  (target >= 10x; timed part = building the stemmer/preprocessor with cold caches + processing)"
    )

    from routing_model import Registry
    from training.train import DEFAULT_CLASSIFIER_PARAMS, load_labeled, train_model

    registry = Registry.load()
    data = load_labeled(Path(args.shared) / "lapor" / "kab_bandung_2021_2023.csv", registry)
    start = time.perf_counter()
    train_model(data, registry, DEFAULT_CLASSIFIER_PARAMS)
    print(
        f"training on the shared LAPOR data ({len(data.frame)} rows, incl. calibration folds): {time.perf_counter() - start:.1f} s (target < 60 s)"
    )


if __name__ == "__main__":
    main()
