"""The served form of a model: arrays and JSON that ``disposisi serve`` loads instead of the
scikit-learn objects of ``model.skops``.

Why a second file: a service worker that unpickles scikit-learn estimators imports scikit-learn,
SciPy's statistics and pandas with them, about 150 MB in every worker before any model is
loaded. Prediction needs only numbers (coefficients, vocabularies, idf, tables) and word lists,
so ``persistence.save`` also writes them here, and the service predicts with ``predictor`` and
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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from routing_model.model.predict.learned import (
    BASE,
    FLOATS,
    GROUPS,
    HEAD,
    JSON,
    LINEAR,
    MENTIONS,
    MODEL_STATE,
    PLACES,
    PREDICTOR,
    PREDICTOR_STATE,
    SERVED_KINDS,
    SPARSE,
    STRINGS,
    VIEWS,
    Learned,
    served_fields,
)
from routing_model.model.predict.predictor import AgencyPredictor, MentionIndex, PlaceView, TextView
from routing_model.model.predict.vectorize import TermView
from routing_model.model.routing import RoutingModel
from routing_model.places.inbox import InboxPlaceIndex
from routing_model.places.matching import PlaceIndex
from routing_model.registry.agencies import Registry
from routing_model.text.normaliser import WordNormaliser

SERVED_FILE = "served.npz"
SERVED_FORMAT = "disposisi-served/1"


class LinearScores:
    """A fitted linear model as its numbers (what ``vectorize.linear_scores`` reads)."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray):
        self.coef_, self.intercept_, self.classes_ = coef, intercept, classes


def _strings(values) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=str)


def _objects(values: np.ndarray) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=object)


# -- one writer and one reader per kind of learned field (``learned``) ---------------------------
# A writer puts a value under ``key`` into the arrays and the JSON record (``meta``); a reader takes it back.
Arrays = dict[str, np.ndarray]


def _write_strings(key: str, value, arrays: Arrays, meta: dict) -> None:
    arrays[key] = _strings(value)


def _read_strings(key: str, arrays: Arrays, meta: dict) -> np.ndarray:
    return _objects(arrays[key])


def _write_floats(key: str, value, arrays: Arrays, meta: dict) -> None:
    arrays[key] = np.asarray(value, dtype=np.float64)


def _read_floats(key: str, arrays: Arrays, meta: dict) -> np.ndarray:
    return arrays[key]


def _write_json(key: str, value, arrays: Arrays, meta: dict) -> None:
    meta[key] = value


def _read_json(key: str, arrays: Arrays, meta: dict):
    return meta[key]


def _write_groups(key: str, value: dict, arrays: Arrays, meta: dict) -> None:
    meta[key] = {topic: [list(names), [list(b) for b in bindings]] for topic, (names, bindings) in value.items()}


def _read_groups(key: str, arrays: Arrays, meta: dict) -> dict:
    return {topic: (names, [(kec, desa) for kec, desa in bindings]) for topic, (names, bindings) in meta[key].items()}


def _write_mentions(key: str, value: MentionIndex, arrays: Arrays, meta: dict) -> None:
    meta[key] = value.phrases


def _read_mentions(key: str, arrays: Arrays, meta: dict) -> MentionIndex:
    return MentionIndex(meta[key])


def _write_sparse(key: str, value, arrays: Arrays, meta: dict) -> None:
    m = sp.csr_matrix(value)
    arrays.update(
        {
            f"{key}.data": m.data,
            f"{key}.indices": m.indices,
            f"{key}.indptr": m.indptr,
            f"{key}.shape": np.asarray(m.shape, dtype=np.int64),
        }
    )


def _read_sparse(key: str, arrays: Arrays, meta: dict) -> sp.csr_matrix:
    return sp.csr_matrix(
        (arrays[f"{key}.data"], arrays[f"{key}.indices"], arrays[f"{key}.indptr"]), shape=tuple(arrays[f"{key}.shape"])
    )


def _write_linear(key: str, value, arrays: Arrays, meta: dict) -> None:
    arrays.update(
        {
            f"{key}.coef": np.asarray(value.coef_),
            f"{key}.intercept": np.asarray(value.intercept_),
            f"{key}.classes": _strings(value.classes_),
        }
    )


def _read_linear(key: str, arrays: Arrays, meta: dict) -> LinearScores:
    return LinearScores(arrays[f"{key}.coef"], arrays[f"{key}.intercept"], _objects(arrays[f"{key}.classes"]))


def _write_places(key: str, value: PlaceIndex | InboxPlaceIndex, arrays: Arrays, meta: dict) -> None:
    if isinstance(value, InboxPlaceIndex):
        meta[key] = {"inbox": list(value.places)}
        return
    meta[key] = {
        "kecamatan": value.kecamatan_names,
        "desa": {k: [list(p) for p in v] for k, v in value.desa_names.items()},
        "common_words": sorted(value.common_words),
    }


def _read_places(key: str, arrays: Arrays, meta: dict) -> PlaceIndex | InboxPlaceIndex:
    places = meta[key]
    if "inbox" in places:
        return InboxPlaceIndex(places["inbox"])
    desa = {k: tuple(map(tuple, v)) for k, v in places["desa"].items()}
    return PlaceIndex(places["kecamatan"], desa, places["common_words"])


def _write_views(key: str, value: list, arrays: Arrays, meta: dict) -> None:
    views = []
    for i, view in enumerate(value):
        if isinstance(view, PlaceView):
            views.append({"kind": "places", "scale": view.scale})
            continue
        terms = view.terms
        arrays[f"view.{i}.terms"] = _strings(terms.feature_names())
        if terms.idf_ is not None:
            arrays[f"view.{i}.idf"] = np.asarray(terms.idf_, dtype=np.float64)
        stemmer = view.stemmer
        views.append(
            {
                "kind": "terms",
                "name": view.name,
                "analyzer": terms.analyzer,
                "ngram_range": list(terms.ngram_range),
                "sublinear_tf": terms.sublinear_tf,
                "norm": terms.norm,
                "lowercase": terms.lowercase,
                "token_pattern": terms.token_pattern,
                "stemmer": None
                if stemmer is None
                else {
                    "normalisation": {k: list(v) for k, v in stemmer.normalisation.items()},
                    "stopwords": sorted(stemmer.stopwords),
                    "stem": bool(stemmer.stem),
                },
            }
        )
    meta[key] = views


def _read_views(key: str, arrays: Arrays, meta: dict) -> list:
    views: list = []
    for i, view in enumerate(meta[key]):
        if view["kind"] == "places":
            views.append(PlaceView(float(view["scale"])))
            continue
        vocabulary = {str(t): j for j, t in enumerate(arrays[f"view.{i}.terms"])}
        terms = TermView(
            view["analyzer"],
            tuple(view["ngram_range"]),
            vocabulary,
            arrays.get(f"view.{i}.idf"),
            bool(view["sublinear_tf"]),
            view["norm"],
            bool(view["lowercase"]),
            view["token_pattern"],
        )
        stemmer = view["stemmer"]
        if stemmer is not None:
            normalisation = {k: tuple(v) for k, v in stemmer["normalisation"].items()}
            stemmer = WordNormaliser(normalisation, frozenset(stemmer["stopwords"]), bool(stemmer["stem"]))
        views.append(TextView(view["name"], terms, stemmer))
    return views


def _write_fields(
    state: tuple[Learned, ...], obj, arrays: Arrays, meta: dict, own: dict | None = None, part: str | None = None
) -> None:
    """Write ``obj``'s served fields (of ``part`` only, when given: ``learned.BASE`` or ``HEAD``); its JSON into
    ``own`` (default ``meta``), a predictor's fields at the top."""
    for f in state:
        if f.kind == PREDICTOR:
            _write_predictor(f.served_key, getattr(obj, f.name), arrays, meta, part)
        elif f in served_fields(state, part):
            _CODECS[f.kind][0](f.served_key, getattr(obj, f.name), arrays, meta if own is None else own)


def read_fields(
    state: tuple[Learned, ...],
    arrays: Arrays,
    meta: dict,
    own: dict | None = None,
    part: str | None = None,
    base: dict | None = None,
) -> dict:
    """The served fields of ``state`` (of ``part`` only, when given) as ``_write_fields`` wrote them; ``base``: the
    predictor's ``BASE`` fields when they were kept apart (a head's)."""
    out = {}
    for f in served_fields(state, part):
        if f.kind == PREDICTOR:
            out[f.name] = _read_predictor(f.served_key, arrays, meta, base)
        else:
            out[f.name] = _CODECS[f.kind][1](f.served_key, arrays, meta if own is None else own)
    return out


def _write_predictor(key: str, value: AgencyPredictor, arrays: Arrays, meta: dict, part: str | None = None) -> None:
    """The predictor's fields sit at the top of the served form (``key`` is not used: one predictor per file)."""
    if part != BASE:
        meta["parameters"] = {k: float(getattr(value, k)) for k in AgencyPredictor.PARAMETERS}
    _write_fields(PREDICTOR_STATE, value, arrays, meta, part=part)


def _read_predictor(key: str, arrays: Arrays, meta: dict, base: dict | None = None) -> AgencyPredictor:
    """The predictor of a served form; ``base``: its ``BASE`` fields, read from a base directory (``heads``) when
    the served form is a head's."""
    registry = Registry.from_csv_text(meta["registry"]["csv"], source=meta["registry"]["source"])
    fields = read_fields(PREDICTOR_STATE, arrays, meta, part=None if base is None else HEAD)
    return AgencyPredictor.restore(registry, meta["parameters"], {**fields, **(base or {})})


_Writer = Callable[[str, object, Arrays, dict], None]
_Reader = Callable[[str, Arrays, dict], object]
_CODECS: dict[str, tuple[_Writer, _Reader]] = {
    STRINGS: (_write_strings, _read_strings),
    FLOATS: (_write_floats, _read_floats),
    JSON: (_write_json, _read_json),
    GROUPS: (_write_groups, _read_groups),
    MENTIONS: (_write_mentions, _read_mentions),
    SPARSE: (_write_sparse, _read_sparse),
    LINEAR: (_write_linear, _read_linear),
    PLACES: (_write_places, _read_places),
    VIEWS: (_write_views, _read_views),
    PREDICTOR: (_write_predictor, _read_predictor),
}
assert set(_CODECS) == SERVED_KINDS, "every served kind of learned.py has a writer and a reader here"


def served_arrays(model: RoutingModel) -> dict[str, np.ndarray]:
    """Everything ``suggest`` reads of a fitted model, as named arrays (``meta``: the JSON part)."""
    arrays, meta = served_parts(model)
    arrays["meta"] = np.frombuffer(json_bytes(meta), dtype=np.uint8)
    return arrays


def served_parts(model: RoutingModel, part: str | None = None) -> tuple[Arrays, dict]:
    """The served arrays and JSON record of a fitted model: all of it, or only its ``BASE`` or ``HEAD`` fields."""
    arrays: Arrays = {}
    if part == BASE:
        meta: dict = {}
        _write_fields(MODEL_STATE, model, arrays, meta, part=BASE)
        return arrays, meta
    meta = {
        "format": SERVED_FORMAT,
        "registry": {"csv": model.registry.to_csv(), "source": model.registry.source},
        "target_precision": model.target_precision,
        "model": {},
    }
    _write_fields(MODEL_STATE, model, arrays, meta, own=meta["model"], part=part)
    return arrays, meta


def json_bytes(record: dict) -> bytes:
    """A served JSON record as UTF-8 (numpy scalars as plain numbers)."""
    return json.dumps(record, ensure_ascii=False, default=_plain).encode("utf-8")


def base_fields(arrays: Arrays, meta: dict) -> dict:
    """The ``BASE`` fields of a predictor, from what ``served_parts(model, BASE)`` wrote."""
    return read_fields(PREDICTOR_STATE, arrays, meta, part=BASE)


def restore_head(arrays: Arrays, meta: dict, base: dict) -> RoutingModel:
    """The model of a head's arrays and JSON record (``served_parts(model, HEAD)``) on its base's fields."""
    state = read_fields(MODEL_STATE, arrays, meta, own=meta["model"], part=HEAD, base=base)
    return RoutingModel.restore(state, target_precision=meta["target_precision"])


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} has no place in a served model")


def write_served(model: RoutingModel, out_dir: Path) -> Path:
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


def read_served(path: Path) -> RoutingModel:
    """The model of a verified ``served.npz`` (``persistence.load_served`` checks it first, and adds what the card
    keeps)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    if meta.get("format") != SERVED_FORMAT:
        raise ValueError(f"{path} is not a {SERVED_FORMAT} file")
    state = read_fields(MODEL_STATE, arrays, meta, own=meta["model"])
    return RoutingModel.restore(state, target_precision=meta["target_precision"])
