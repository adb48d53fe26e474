"""Quality of the first door (an inbox of instances), with zero labels (docs/quality.md).

    python -m bench.quality_inbox [--json]

A base model is trained on the shared Kabupaten Bandung complaints of 2021-2022, then adapted with
no labels to three inbox registries (``registry init --inbox national`` / ``--inbox-province``):
- the shared complaints of 2023 (all filed with Pemerintah Kabupaten Bandung) with the Jawa Barat
  and the national inbox: the right instance is "Pemerintah Kabupaten Bandung"; also shown without
  the rows where ``outside_region`` finds another region named (there the gold is doubtful), and
  on the rows that name any place of the inbox (without one, no instance can be told from the text);
- the team-written complaints of ``tests/regions/data/inbox_complaints.csv`` (places in many
  regions, national bodies) with the national inbox (every row) and the Jawa Tengah inbox (the rows
  whose instance it lists).
For each: how often the right instance is first and in the top 3.
"""

from __future__ import annotations

import argparse
import csv
import json
import warnings
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "regions" / "data" / "inbox_complaints.csv"
SHARED_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "lapor" / "kab_bandung_2021_2023.csv"
BANDUNG = "Pemerintah Kabupaten Bandung"


def rank_figures(model, texts: list[str], gold: list[str]) -> dict:
    """How often the right instance is first and among the top 3 (``model.suggest``)."""
    suggestions = model.suggest(texts, k=3, n_reasons=0)
    first = sum(s.agencies[0][0] == g for s, g in zip(suggestions, gold))
    top3 = sum(g in [a for a, _ in s.agencies] for s, g in zip(suggestions, gold))
    n = len(gold)
    return {"rows": n, "top1": round(first / n, 3), "top3": round(top3 / n, 3)}


def fixture_rows(path: Path = FIXTURE) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def main(argv=None) -> None:
    from routing_model import Registry, RoutingModel
    from routing_model.places.elsewhere import outside_region
    from routing_model.places.matching import PlaceIndex
    from routing_model.registry.inbox import build_inbox_registry
    from training.adapt import adapt_model
    from training.train import DEFAULT_CLASSIFIER_PARAMS, load_labeled

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    bandung = Registry.load()
    frame = load_labeled(SHARED_CSV, bandung).frame
    train, test = frame[frame.date < "2023-01-01"], frame[frame.date >= "2023-01-01"]
    base = RoutingModel(bandung, DEFAULT_CLASSIFIER_PARAMS).fit(
        train.text.tolist(), train.label.tolist(), train.date.tolist()
    )
    inboxes = {
        scope: build_inbox_registry(province).registry
        for scope, province in (("national", None), ("Jawa Barat", "Jawa Barat"), ("Jawa Tengah", "Jawa Tengah"))
    }
    models = {scope: adapt_model(base, registry) for scope, registry in inboxes.items()}
    texts = test.text.tolist()
    own = PlaceIndex.for_region(bandung.region)
    ours = [outside_region(t, bandung.region, own) is None for t in texts]
    named_ours = [t for t, keep in zip(texts, ours) if keep]
    out = {}
    for scope in ("Jawa Barat", "national"):
        out[f"shared 2023, {scope} inbox"] = rank_figures(models[scope], texts, [BANDUNG] * len(texts))
        out[f"shared 2023 naming no other region, {scope} inbox"] = rank_figures(
            models[scope], named_ours, [BANDUNG] * len(named_ours)
        )
    for scope in ("Jawa Barat", "national"):
        index = models[scope].classifier_.place_index_
        placed = [t for t in texts if index.find(t)]
        out[f"shared 2023 naming a place of the inbox, {scope} inbox"] = rank_figures(
            models[scope], placed, [BANDUNG] * len(placed)
        )
    rows = fixture_rows()
    out["team-written, national inbox"] = rank_figures(
        models["national"], [r["text"] for r in rows], [r["instance"] for r in rows]
    )
    listed = set(inboxes["Jawa Tengah"].names)
    jateng = [r for r in rows if r["instance"] in listed]
    out["team-written, Jawa Tengah inbox"] = rank_figures(
        models["Jawa Tengah"], [r["text"] for r in jateng], [r["instance"] for r in jateng]
    )
    for kind, pick in (("regions", True), ("national bodies", False)):
        part = [r for r in rows if r["instance"].startswith("Pemerintah") == pick]
        out[f"team-written {kind}, national inbox"] = rank_figures(
            models["national"], [r["text"] for r in part], [r["instance"] for r in part]
        )
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    print(f"{'what':<62} {'rows':>5} {'top-1':>6} {'top-3':>6}")
    for what, f in out.items():
        print(f"{what:<62} {f['rows']:>5} {f['top1']:>6.3f} {f['top3']:>6.3f}")


if __name__ == "__main__":
    main()
