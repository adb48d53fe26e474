"""Digests of every suggestion the shared-data model makes for every shared text, to prove a change predicts
bit for bit as before (issue 16: the restructure changes no prediction).

``python tests/model/golden_suggestions.py MODEL_DIR`` writes ``golden/shared_suggestions.json`` from a model
trained by ``disposisi train --data <LAPOR .xlsx export>``; ``test_predictions_unchanged.py`` compares. The file
holds digests of model outputs in blocks of texts, never a citizen's words.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "shared_suggestions.json"
SHARED = HERE.parents[2] / "shared" / "data"
SOURCES = {
    "lapor": (SHARED / "lapor" / "kab_bandung_2021_2023.csv", "text"),
    "kai121": (SHARED / "kai121" / "kai121_tweets.csv", "text"),
}
BLOCK = 250
LIBRARIES = ("numpy", "scipy", "scikit-learn")


def canonical(suggestion) -> str:
    """A suggestion as text with its confidences exact to the last bit (float.hex)."""
    return json.dumps(
        {
            "agencies": [[a, float(p).hex()] for a, p in suggestion.agencies],
            "needs_review": bool(suggestion.needs_review),
            "reasons": list(suggestion.reasons),
            "warnings": list(suggestion.warnings),
            "outside_region": suggestion.outside_region,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def digests(model) -> dict[str, list[str]]:
    """Per source, one sha256 per block of BLOCK texts over their canonical suggestions (texts the model refuses
    count as their error message)."""
    out = {}
    for name, (path, column) in SOURCES.items():
        texts = pd.read_csv(path, dtype=str, keep_default_na=False)[column].tolist()
        blocks = []
        for lo in range(0, len(texts), BLOCK):
            h = hashlib.sha256()
            for text in texts[lo : lo + BLOCK]:
                try:
                    h.update(canonical(model.suggest([text], k=5)[0]).encode("utf-8"))
                except ValueError as exc:  # too short, empty: the refusal is part of the behaviour
                    h.update(f"refused: {exc}".encode())
                h.update(b"\n")
            blocks.append(h.hexdigest())
        out[name] = blocks
    return out


def libraries() -> dict[str, str]:
    return {name: version(name) for name in LIBRARIES}


def main(model_dir: str) -> None:
    sys.path.insert(0, str(HERE.parents[1]))
    from routing_model.artifact import persistence

    model = persistence.load_served(model_dir)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(
        json.dumps({"block": BLOCK, "libraries": libraries(), "digests": digests(model)}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main(sys.argv[1])
