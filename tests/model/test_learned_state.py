"""The learned state is declared once (``routing_model.model.predict.learned``): fitting sets nothing undeclared, and the served
form's round trip restores every declared field, so a new learned table cannot be forgotten by one artifact."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from model_helpers import DEMO_CSV

from routing_model import RoutingModel
from routing_model.artifact import persistence
from routing_model.artifact.served import served_arrays
from routing_model.model.predict.learned import MODEL_STATE, PREDICTOR, PREDICTOR_STATE, TRAINING, field_names

OPTIONAL = {"base_", "card_"}  # set by adapt, and by save/load


def _learned(obj) -> set[str]:
    """Trailing-underscore attributes (scikit-learn's learned state), not private ones."""
    return {k for k in vars(obj) if k.endswith("_") and not k.startswith("_")}


@pytest.fixture(scope="module")
def fitted(registry) -> RoutingModel:
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    model = RoutingModel(registry, {"alpha": 1e-4})
    return model.fit(demo["text"].tolist(), demo["agency"].tolist(), demo["date"].tolist())


def test_fitting_sets_only_declared_state(fitted):
    assert _learned(fitted.classifier_) == field_names(PREDICTOR_STATE)
    assert _learned(fitted) == field_names(MODEL_STATE) - OPTIONAL


def test_adapting_sets_only_declared_state(fitted, registry):
    adapted = RoutingModel(registry).adapt(fitted)
    assert _learned(adapted.classifier_) == field_names(PREDICTOR_STATE)
    assert _learned(adapted) == field_names(MODEL_STATE) - {"card_"}


def test_the_served_form_restores_every_declared_field(fitted, tmp_path):
    persistence.save(fitted, tmp_path / "m")
    served = persistence.load_served(tmp_path / "m")
    training_only = field_names(PREDICTOR_STATE, frozenset({TRAINING}))
    assert _learned(served.classifier_) == field_names(PREDICTOR_STATE) - training_only
    assert _learned(served) == field_names(MODEL_STATE) - {"base_"}  # not adapted
    before, after = served_arrays(fitted), served_arrays(served)  # every served field, as the writer sees it
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    for f in MODEL_STATE:  # the model's own fields (the classifier's are compared as arrays above)
        if f.kind != PREDICTOR and f.name not in OPTIONAL:
            assert _same(getattr(served, f.name), getattr(fitted, f.name)), f.name


def test_the_skops_form_restores_every_declared_field(fitted, tmp_path):
    persistence.save(fitted, tmp_path / "m")
    loaded = persistence.load(tmp_path / "m")
    assert _learned(loaded.classifier_) == field_names(PREDICTOR_STATE)
    assert _learned(loaded) == field_names(MODEL_STATE) - {"base_"}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def test_the_served_layout_is_the_one_schema_4_files_have(fitted):
    """The declaration decides the served file's names; model directories saved before it must still load, so the
    layout is pinned here (a change of it bumps ``persistence.SCHEMA``)."""
    arrays = served_arrays(fitted)
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    assert sorted(k for k in arrays if not k.startswith("view.")) == [
        "classes",
        "function.classes",
        "function.coef",
        "function.intercept",
        "function_codes",
        "holders",
        "mandate.data",
        "mandate.indices",
        "mandate.indptr",
        "mandate.shape",
        "meta",
        "prior",
        "topic.classes",
        "topic.coef",
        "topic.intercept",
    ]
    assert sorted(k for k in arrays if k.startswith("view.")) == [
        "view.0.idf",
        "view.0.terms",
        "view.1.idf",
        "view.1.terms",
    ]
    assert sorted(meta) == [
        "format",
        "groups",
        "mandate_agencies",
        "mentions",
        "model",
        "parameters",
        "places",
        "registry",
        "target_precision",
        "views",
    ]
    assert sorted(meta["model"]) == [
        "function_mix_",
        "label_counts_",
        "review_threshold_",
        "review_thresholds_",
        "small_data_",
        "temperature_",
    ]
    assert sorted(meta["parameters"]) == [
        "function_mix",
        "mandate_boost",
        "mention_boost",
        "prior_smoothing",
        "temperature",
    ]
    assert persistence.SCHEMA == 4
