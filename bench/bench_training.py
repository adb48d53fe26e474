"""Training at scale: Disposisi next to the reference model, each fit in a fresh process.

Rows are generated from the shared LAPOR! complaints so that they look like a larger region's
channel, not like copies: each generated row is a real labeled complaint (agency kept) with
about 10 % of its words dropped, two words' letters swapped (typos), and five words drawn from
the KAI121 tweets inserted at random positions (informal vocabulary that is new to the model).
Dates are spread over three years in order. The 7,472-row set of the issue (the shared rows
repeated with five random KAI121 words appended) is measured too.

Per size: seconds to fit (``train`` as the CLI does it: held-out calibration + final fit),
peak RSS of the fitting process, model file MB, and the reference's seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (500, 5_000, 50_000, 100_000)

_WORKER = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
which, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
import pandas as pd
frame = pd.read_csv(data, dtype=str, keep_default_na=False)
if which == "disposisi":
    from training.train import train_and_save
    t0 = time.perf_counter()
    card = train_and_save(data, out)
    seconds = time.perf_counter() - t0
    import os
    mb = os.path.getsize(os.path.join(out, "model.skops")) / 2**20
    served_mb = os.path.getsize(os.path.join(out, "served.npz")) / 2**20  # what the service loads
else:
    from training.reference import reference_pipeline
    from routing_model import Registry
    from training.labeled_data import prepare_labeled
    labeled = prepare_labeled(frame, Registry.load(), "text", "agency", "date")
    t0 = time.perf_counter()
    reference_pipeline().fit(labeled.texts, labeled.labels)
    seconds = time.perf_counter() - t0
    mb = served_mb = float("nan")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"which": which, "seconds": seconds, "peak_mib": peak, "model_mb": mb, "served_mb": served_mb}))
"""


def generate(shared: str, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` realistic rows from the shared labeled complaints (see the module docstring)."""
    rng = np.random.default_rng(seed)
    lapor = pd.read_csv(f"{shared}/lapor/kab_bandung_2021_2023.csv", dtype=str, keep_default_na=False)
    lapor = lapor[lapor["agency"] != ""].reset_index(drop=True)
    kai = pd.read_csv(f"{shared}/kai121/kai121_tweets.csv", dtype=str, keep_default_na=False)["text"]
    vocabulary = np.array(sorted({w for t in kai for w in t.split() if w.isalpha() and len(w) > 2}))
    picks = rng.integers(0, len(lapor), n)
    texts = []
    for i in picks:
        words = lapor.at[i, "text"].split()
        words = [w for w in words if rng.random() > 0.1] or words
        for _ in range(2):
            j = int(rng.integers(0, len(words)))
            w = words[j]
            if len(w) > 3:
                k = int(rng.integers(0, len(w) - 1))
                words[j] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
        for w in rng.choice(vocabulary, 5):
            words.insert(int(rng.integers(0, len(words) + 1)), str(w))
        texts.append(" ".join(words))
    days = np.sort(rng.integers(0, 3 * 365, n))
    dates = (pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    return pd.DataFrame({"text": texts, "agency": lapor["agency"].to_numpy()[picks], "date": dates})


def issue_set(shared: str, seed: int = 0) -> pd.DataFrame:
    """The issue's 7,472 rows: the shared rows repeated, five random KAI121 words appended to each copy."""
    rng = np.random.default_rng(seed)
    lapor = pd.read_csv(f"{shared}/lapor/kab_bandung_2021_2023.csv", dtype=str, keep_default_na=False)
    lapor = lapor[lapor["agency"] != ""].reset_index(drop=True)
    kai = pd.read_csv(f"{shared}/kai121/kai121_tweets.csv", dtype=str, keep_default_na=False)["text"]
    vocabulary = np.array(sorted({w for t in kai for w in t.split() if w.isalpha() and len(w) > 2}))
    reps = -(-7472 // len(lapor))
    frame = pd.concat([lapor] * reps, ignore_index=True).head(7472).copy()
    frame["text"] = [t + " " + " ".join(rng.choice(vocabulary, 5)) for t in frame["text"]]
    return frame[["text", "agency", "date"]]


def fit_fresh(which: str, data: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _WORKER, which, str(data), str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{which} fit failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="training time, memory and model size at scale, vs the reference")
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated row counts")
    ap.add_argument(
        "--no-reference-above", type=int, default=50_000, help="skip the reference above this many rows (time)"
    )
    args = ap.parse_args(argv)
    sets = [("shared", None), ("issue 7472", None)] + [(str(n), int(n)) for n in args.sizes.split(",") if n]
    print("training in fresh processes, one run; generated rows: see bench/bench_training.py")
    print(
        f"{'rows':>12}{'disposisi s':>13}{'peak MiB':>10}{'model MB':>10}{'served MB':>11}{'reference s':>13}{'peak MiB':>10}{'time ratio':>12}"
    )
    with tempfile.TemporaryDirectory(prefix="disposisi-bench-train-") as tmp:
        for name, n in sets:
            path = Path(tmp) / f"{name.replace(' ', '_')}.csv"
            if name == "shared":
                frame = pd.read_csv(f"{args.shared}/lapor/kab_bandung_2021_2023.csv", dtype=str, keep_default_na=False)
            elif name.startswith("issue"):
                frame = issue_set(args.shared)
            else:
                frame = generate(args.shared, n)
            frame.to_csv(path, index=False)
            ours = fit_fresh("disposisi", path, Path(tmp) / f"model_{name.replace(' ', '_')}")
            if n is None or n <= args.no_reference_above:
                ref = fit_fresh("reference", path, Path(tmp) / "unused")
                ratio = f"{ours['seconds'] / ref['seconds']:.2f}x"
                ref_s, ref_mem = f"{ref['seconds']:.1f}", f"{ref['peak_mib']:.0f}"
            else:
                ref_s, ref_mem, ratio = "skipped", "", ""
            label = f"{len(frame):,}" + (f" ({name})" if n is None else "")
            print(
                f"{label:>12}{ours['seconds']:>13.1f}{ours['peak_mib']:>10.0f}{ours['model_mb']:>10.1f}{ours['served_mb']:>11.1f}{ref_s:>13}{ref_mem:>10}{ratio:>12}",
                flush=True,
            )


if __name__ == "__main__":
    main()
