"""The saved model directory: what card.json records, and every refusal of load."""

from __future__ import annotations

import json
import pickle
import sys
from datetime import datetime

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from model_helpers import DEMO_CSV, sha256
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from routing_model import ModelLoadError, RoutingModel
from routing_model.artifact import persistence
from routing_model.artifact.persistence import write_card


def _card(model_dir) -> dict:
    return json.loads((model_dir / "card.json").read_text(encoding="utf-8"))


def _write_card(model_dir, card: dict) -> None:
    """Edit the card and re-seal it (card.sha256), as someone who can write files could."""
    write_card(model_dir, card)


# --------------------------------------------------------------------------------------
# card.json


def test_card_records_everything(demo_model_dir):
    card = _card(demo_model_dir)
    assert isinstance(card["version"], str) and card["version"]
    created = datetime.fromisoformat(card["created_at"])
    assert created.tzinfo is not None

    data = card["training_data"]
    assert data["file_sha256"] == sha256(DEMO_CSV)
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    assert data["rows"] == len(demo) == 240
    assert len(data["rows_sha256"]) == 64

    labels = card["labels"]
    assert labels == demo["agency"].value_counts().to_dict()
    assert sum(labels.values()) == data["rows"]
    assert set(labels) <= set(card["classes"])

    params = card["parameters"]
    assert params["target_precision"] == 0.90
    assert {"alpha", "registry_weight", "mention_boost", "temperature", "function_mix"} <= set(params["classifier"])

    libs = card["libraries"]
    assert libs["python"] == ".".join(map(str, sys.version_info[:3]))
    for dist in ("scikit-learn", "PySastrawi"):
        assert libs[dist] and libs[dist] != "missing"

    assert 0.0 < card["review_threshold"] <= 1.0
    cal = card["calibration"]
    for key in ("temperature", "function_mix", "holdout", "holdout_top1", "holdout_ece", "review"):
        assert key in cal
    assert 0.0 <= cal["holdout_ece"] <= 1.0
    assert card["evaluation"]["held_out"]["holdout_top1"] == cal["holdout_top1"]
    assert card["region"] == {"province": "Jawa Barat", "name": "Kabupaten Bandung"}
    assert card["small_data"] is False

    assert card["model_sha256"] == sha256(demo_model_dir / "model.skops")


def test_loaded_model_knows_its_card(demo_model, demo_model_dir):
    card = _card(demo_model_dir)
    assert demo_model.version == card["version"]
    assert demo_model.review_threshold_ == pytest.approx(card["review_threshold"])


# --------------------------------------------------------------------------------------
# round trip


@pytest.fixture(scope="module")
def small_model(registry):
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    keep = demo[demo["agency"].isin(demo["agency"].value_counts().index[:4])].head(48)
    return RoutingModel(registry, {"alpha": 1e-4}).fit(keep["text"].tolist(), keep["agency"].tolist())


@pytest.mark.slow
def test_loaded_model_predicts_identically(small_model, tmp_path):
    texts = ["jalan rusak berlubang di Desa Jelekong", "e-KTP saya belum jadi", "sampah numpuk gak diangkut", "xx yy"]
    card = persistence.save(small_model, tmp_path / "m")
    loaded = persistence.load(tmp_path / "m")
    assert loaded is not small_model
    np.testing.assert_array_equal(loaded.predict_proba(texts), small_model.predict_proba(texts))
    assert list(loaded.classes_) == list(small_model.classes_)
    assert loaded.review_threshold_ == small_model.review_threshold_
    assert [s.agencies for s in loaded.suggest(texts)] == [s.agencies for s in small_model.suggest(texts)]
    assert loaded.version == card["version"]
    # a saved card never nests an older card
    assert "card_" not in json.dumps(card)


@pytest.mark.slow
def test_save_twice_gives_distinct_versions(small_model, tmp_path):
    a = persistence.save(small_model, tmp_path / "a")
    b = persistence.save(small_model, tmp_path / "b")
    assert a["version"] != b["version"]
    assert persistence.load(tmp_path / "a").version == a["version"]


# --------------------------------------------------------------------------------------
# refusals


def test_refuses_changed_byte(model_copy):
    path = model_copy / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match its card"):
        persistence.load(model_copy)


def test_refuses_truncated_file(model_copy):
    path = model_copy / "model.skops"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match="changed or truncated"):
        persistence.load(model_copy)


def test_refuses_truncated_file_even_with_matching_sha(model_copy):
    path = model_copy / "model.skops"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    card = _card(model_copy)
    card["model_sha256"] = sha256(path)
    _write_card(model_copy, card)
    with pytest.raises(ModelLoadError, match="not a readable skops file|could not be loaded"):
        persistence.load(model_copy)


def test_refuses_missing_model_file(model_copy):
    (model_copy / "model.skops").unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        persistence.load(model_copy)


def test_refuses_missing_card(model_copy):
    (model_copy / "card.json").unlink()
    with pytest.raises(ModelLoadError, match="card.json is missing"):
        persistence.load(model_copy)


def test_refuses_card_that_is_not_json(model_copy):
    (model_copy / "card.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        persistence.load(model_copy)


def test_refuses_card_of_another_format(model_copy):
    _write_card(model_copy, {"hello": "world"})
    with pytest.raises(ModelLoadError, match="disposisi-model/1"):
        persistence.load(model_copy)


def _replace_model_file(model_dir, write) -> None:
    path = model_dir / "model.skops"
    path.unlink()
    write(path)
    card = _card(model_dir)
    card["model_sha256"] = sha256(path)  # an attacker who can write files can also fix the card
    _write_card(model_dir, card)


def test_refuses_foreign_skops_dict(model_copy):
    _replace_model_file(model_copy, lambda p: sio.dump({"a": 1}, p))
    with pytest.raises(ModelLoadError, match="not a RoutingModel"):
        persistence.load(model_copy)


def test_refuses_foreign_sklearn_estimator(model_copy):
    est = LogisticRegression().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
    _replace_model_file(model_copy, lambda p: sio.dump(est, p))
    with pytest.raises(ModelLoadError, match="not a RoutingModel|does not trust"):
        persistence.load(model_copy)


class ForeignThing:
    def __init__(self):
        self.value = 1


def test_refuses_skops_file_with_untrusted_types(model_copy):
    _replace_model_file(model_copy, lambda p: sio.dump({"x": ForeignThing()}, p))
    with pytest.raises(ModelLoadError, match="does not trust.*ForeignThing"):
        persistence.load(model_copy)


def test_refuses_other_sklearn_estimator_trusted_by_skops(model_copy):
    est = LinearSVC().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
    _replace_model_file(model_copy, lambda p: sio.dump(est, p))
    with pytest.raises(ModelLoadError, match="not a RoutingModel|does not trust"):
        persistence.load(model_copy)


class _Payload:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("dumper", ["pickle", "joblib"])
def test_refuses_pickle_without_running_it(model_copy, tmp_path, dumper):
    # the payload is real: unpickling it does create its marker
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_Payload(proof))).close()
    assert proof.exists()

    marker = tmp_path / "pwned"
    if dumper == "pickle":
        _replace_model_file(model_copy, lambda p: p.write_bytes(pickle.dumps(_Payload(marker))))
    else:
        _replace_model_file(model_copy, lambda p: joblib.dump(_Payload(marker), p))
    with pytest.raises(ModelLoadError) as info:
        persistence.load(model_copy)
    assert "model.skops" in str(info.value)
    assert not marker.exists(), "load executed the pickle"


def test_refuses_other_scikit_learn_version(model_copy):
    card = _card(model_copy)
    card["libraries"]["scikit-learn"] = "0.24.2"
    _write_card(model_copy, card)
    with pytest.raises(ModelLoadError, match="scikit-learn 0.24.2"):
        persistence.load(model_copy)


def test_refuses_other_sastrawi_version(model_copy):
    card = _card(model_copy)
    card["libraries"]["PySastrawi"] = "2.0.0"
    _write_card(model_copy, card)
    with pytest.raises(ModelLoadError, match="PySastrawi"):
        persistence.load(model_copy)


def test_refuses_card_without_library_versions(model_copy):
    card = _card(model_copy)
    del card["libraries"]
    _write_card(model_copy, card)
    with pytest.raises(ModelLoadError, match="scikit-learn"):
        persistence.load(model_copy)


def test_untouched_copy_still_loads(model_copy, demo_model):
    loaded = persistence.load(model_copy)
    texts = ["Lampu PJU di jln raya Soreang mati sudah seminggu"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), demo_model.predict_proba(texts))


def test_a_model_file_from_before_the_package_layout_loads(model_copy):
    """model.skops files written before issue 16 name their types by the old flat modules (routing_model.features,
    routing_model.model ...); they load, and suggest exactly as the file written today."""
    import io
    import json
    import zipfile

    from routing_model.artifact.persistence import MODEL_FILE, MOVED_MODULES, read_card, sha256_file

    path = model_copy / MODEL_FILE
    old_names = {new: old for old, new in MOVED_MODULES.items()}
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
        members = {info.filename: archive.read(info) for info in archive.infolist()}

    def back(node):
        if isinstance(node, dict):
            if node.get("__module__") in old_names:
                node["__module__"] = old_names[node["__module__"]]
            for value in node.values():
                back(value)
        elif isinstance(node, list):
            for value in node:
                back(value)

    back(schema)
    text = json.dumps(schema)
    assert "routing_model.features" in text and "routing_model.model.fit" not in text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, body in members.items():
            out.writestr(name, text if name == "schema.json" else body)
    path.write_bytes(buf.getvalue())
    card = read_card(model_copy)
    card["model_sha256"] = sha256_file(path)
    write_card(model_copy, card)

    old, now = persistence.load(model_copy), persistence.load_served(model_copy)
    texts = ["Jalan di Desa Jelekong rusak parah, banyak lubang", "e-KTP saya belum jadi, blanko habis"]
    assert old.suggest(texts, k=5) == now.suggest(texts, k=5)
