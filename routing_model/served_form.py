"""The served form of a model: arrays and JSON that ``disposisi serve`` loads instead of the
scikit-learn objects of ``model.skops``.

Why a second file: a service worker that unpickles scikit-learn estimators imports scikit-learn,
SciPy's statistics and pandas with them, about 150 MB in every worker before any model is
loaded. Prediction needs only numbers (coefficients, vocabularies, idf, tables) and word lists,
so ``save_model`` also writes them here, and the service predicts with ``predictor`` and
``vectorize``, which import neither.

It is also the safer file to serve. ``served.npz`` is numpy's zip of ``.npy`` arrays, read with
``allow_pickle=False``: loading it runs no code, whatever the file holds. Its sha256 is on the
sealed card, so it is verified like ``model.skops``. Training, ``adapt``, ``evaluate`` and
``promote`` keep reading ``model.skops``; ``tests/model/test_served_form.py`` checks the two
give the same suggestions.

Layout: one array ``meta`` (UTF-8 JSON: registry, parameters, tables, word lists) and named
arrays for the rest (``classes``, ``topic.coef``, ``view.0.terms``, ...).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .normaliser import WordNormaliser
from .places import PlaceIndex
from .predictor import AgencyPredictor, MentionIndex, PlaceView, TextView
from .registry import Registry
from .vectorize import TermView

if TYPE_CHECKING:
    from .model import RoutingModel

SERVED_FILE = "served.npz"
SERVED_FORMAT = "disposisi-served/1"
_PARAMETERS = ("function_mix", "temperature", "mention_boost", "mandate_boost", "prior_smoothing")
_MODEL_STATE = ("review_threshold_", "review_thresholds_", "label_counts_", "small_data_", "temperature_", "function_mix_")


class LinearScores:
    """A fitted linear model as its numbers (what ``vectorize.linear_scores`` reads)."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray):
        self.coef_, self.intercept_, self.classes_ = coef, intercept, classes


def _strings(values) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=str)


def _objects(values: np.ndarray) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=object)


def served_arrays(model: "RoutingModel") -> dict[str, np.ndarray]:
    """Everything ``suggest`` reads of a fitted model, as named arrays (``meta``: the JSON part)."""
    clf = model.classifier_
    arrays: dict[str, np.ndarray] = {
        "classes": _strings(clf.classes_),
        "prior": np.asarray(clf.prior_, dtype=np.float64),
        "holders": np.asarray(clf.holders_, dtype=np.float64),
        "function_codes": _strings(clf.function_codes_),
    }
    mandate = sp.csr_matrix(clf.mandate_matrix_)
    arrays.update({"mandate.data": mandate.data, "mandate.indices": mandate.indices, "mandate.indptr": mandate.indptr,
                   "mandate.shape": np.asarray(mandate.shape, dtype=np.int64)})
    for name, linear in (("topic", clf.topic_model_), ("function", clf.function_model_)):
        arrays.update({f"{name}.coef": np.asarray(linear.coef_), f"{name}.intercept": np.asarray(linear.intercept_),
                       f"{name}.classes": _strings(linear.classes_)})
    views = []
    for i, view in enumerate(clf._views):
        if isinstance(view, PlaceView):
            views.append({"kind": "places", "scale": view.scale})
            continue
        terms = view.terms
        arrays[f"view.{i}.terms"] = _strings(terms.feature_names())
        if terms.idf_ is not None:
            arrays[f"view.{i}.idf"] = np.asarray(terms.idf_, dtype=np.float64)
        stemmer = view.stemmer
        views.append({
            "kind": "terms", "name": view.name, "analyzer": terms.analyzer, "ngram_range": list(terms.ngram_range),
            "sublinear_tf": terms.sublinear_tf, "norm": terms.norm, "lowercase": terms.lowercase, "token_pattern": terms.token_pattern,
            "stemmer": None if stemmer is None else {
                "normalisation": {k: list(v) for k, v in stemmer.normalisation.items()},
                "stopwords": sorted(stemmer.stopwords), "stem": bool(stemmer.stem),
            },
        })
    places = clf.place_index_
    meta = {
        "format": SERVED_FORMAT,
        "registry": {"csv": model.registry.to_csv(), "source": model.registry.source},
        "target_precision": model.target_precision,
        "model": {k: getattr(model, k) for k in _MODEL_STATE},
        "parameters": {k: float(getattr(clf, k)) for k in _PARAMETERS},
        "groups": {topic: [list(names), [list(b) for b in bindings]] for topic, (names, bindings) in clf.groups_.items()},
        "mandate_agencies": list(clf.mandate_agencies_),
        "places": {"kecamatan": places.kecamatan_names, "desa": {k: [list(p) for p in v] for k, v in places.desa_names.items()},
                   "common_words": sorted(places.common_words)},
        "mentions": clf.mentions_.phrases,
        "views": views,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, default=_plain).encode("utf-8"), dtype=np.uint8)
    return arrays


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} has no place in a served model")


def write_served(model: "RoutingModel", out_dir: Path) -> Path:
    """Write ``served.npz`` into ``out_dir`` atomically; returns its path."""
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".served-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **served_arrays(model))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_dir / SERVED_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_dir / SERVED_FILE


def read_served(path: Path, model_class: type[RoutingModel]) -> RoutingModel:
    """The model of a verified ``served.npz`` (``persistence.load_served`` checks it first), as
    a ``model_class`` (``RoutingModel``, passed in: the model module imports this one)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    if meta.get("format") != SERVED_FORMAT:
        raise ValueError(f"{path} is not a {SERVED_FORMAT} file")
    registry = Registry.from_csv_text(meta["registry"]["csv"], source=meta["registry"]["source"])
    views: list = []
    for i, view in enumerate(meta["views"]):
        if view["kind"] == "places":
            views.append(PlaceView(float(view["scale"])))
            continue
        terms = arrays[f"view.{i}.terms"]
        stemmer = view["stemmer"]
        views.append(TextView(
            view["name"],
            TermView(view["analyzer"], tuple(view["ngram_range"]), {str(t): j for j, t in enumerate(terms)}, arrays.get(f"view.{i}.idf"),
                     bool(view["sublinear_tf"]), view["norm"], bool(view["lowercase"]), view["token_pattern"]),
            None if stemmer is None else WordNormaliser(
                {k: tuple(v) for k, v in stemmer["normalisation"].items()}, frozenset(stemmer["stopwords"]), bool(stemmer["stem"])),
        ))
    places = meta["places"]
    state = {
        "registry": registry,
        **meta["parameters"],
        "classes_": _objects(arrays["classes"]),
        "prior_": arrays["prior"],
        "holders_": arrays["holders"],
        "function_codes_": _objects(arrays["function_codes"]),
        "mandate_matrix_": sp.csr_matrix((arrays["mandate.data"], arrays["mandate.indices"], arrays["mandate.indptr"]),
                                         shape=tuple(arrays["mandate.shape"])),
        "mandate_agencies_": meta["mandate_agencies"],
        "groups_": {t: (names, [(kec, desa) for kec, desa in bindings]) for t, (names, bindings) in meta["groups"].items()},
        "topic_model_": LinearScores(arrays["topic.coef"], arrays["topic.intercept"], _objects(arrays["topic.classes"])),
        "function_model_": LinearScores(arrays["function.coef"], arrays["function.intercept"], _objects(arrays["function.classes"])),
        "place_index_": PlaceIndex(places["kecamatan"], {k: tuple(map(tuple, v)) for k, v in places["desa"].items()}, places["common_words"]),
        "mentions_": MentionIndex(meta["mentions"]),
        "views_": views,
    }
    model = model_class(registry=registry, target_precision=meta["target_precision"])
    model.__dict__.update(meta["model"])
    model.classifier_ = AgencyPredictor.restore(state)
    model.classes_ = model.classifier_.classes_
    return model
