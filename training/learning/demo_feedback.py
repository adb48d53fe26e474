"""Fictional admin feedback for `make report-demo` (derived from the fictional demo complaints).

``python -m training.learning.demo_feedback --out FILE.csv``: one decision per demo complaint of 2024,
as if two model versions had suggested agencies (the second one better), deterministic (seed 0).
It exists only to show the report page; it is not evidence about any model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from routing_model.registry.agencies import Registry

DEMO_CSV = Path(__file__).resolve().parents[2] / "data" / "demo" / "demo_complaints.csv"


def demo_feedback(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    registry = Registry.load()
    frame = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    frame = frame[frame["date"] >= "2024-01-01"].reset_index(drop=True)
    names = sorted(set(frame["agency"].map(registry.resolve)))
    rows = []
    for i, r in frame.iterrows():
        truth = registry.resolve(r["agency"])
        version = "demo-v1" if r["date"] < "2024-07-01" else "demo-v2"
        right = rng.random() < (0.62 if version == "demo-v1" else 0.78)
        others = [n for n in names if n != truth]
        wrong = list(rng.choice(others, size=2, replace=False))
        suggested = [truth, *wrong] if right else [wrong[0], truth, wrong[1]] if rng.random() < 0.6 else [*wrong, truth]
        review = bool(rng.random() < (0.5 if not right else 0.15))
        if right:
            action, chosen = "accepted", truth
        elif rng.random() < 0.3:
            action, chosen = "not_our_authority", suggested[0]
        else:
            action, chosen = "corrected", truth
        if rng.random() < 0.03:
            action = "archived"
        confidential = bool(rng.random() < 0.05)
        rows.append(
            {
                "id": i + 1,
                "complaint_id": r["id"],
                "text": "" if confidential else r["text"],
                "confidential": confidential,
                "suggested": json.dumps(suggested, ensure_ascii=False),
                "chosen_agency": chosen,
                "action": action,
                "admin": f"admin{1 + i % 3}",
                "model_version": version,
                "needs_review": review,
                "created_at": f"{r['date']}T{8 + i % 9:02d}:{i % 60:02d}:00+00:00",
            }
        )
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    demo_feedback(args.seed).to_csv(out, index=False)
    print(f"fictional demo feedback written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
