"""One shared base, small region heads (issue 18 part 1): a head on its base suggests exactly as the whole adapted
model, and every bad base or head is refused with one line naming what is wrong."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from golden_suggestions import SOURCES, canonical
from model_helpers import REGISTRY_CSV, run_cli

from routing_model.artifact import persistence
from routing_model.artifact.bases import BASE_FILE, Bases, base_digest_of, write_base
from routing_model.artifact.cards import ModelLoadError, read_card, write_card
from routing_model.artifact.heads import compact, expand, is_head_dir, load_head, write_head
from routing_model.artifact.served import LinearScores
from routing_model.artifact.split import split_model
from routing_model.model.predict.learned import BASE, MODEL_STATE, PREDICTOR_STATE, served_fields
from routing_model.model.predict.vectorize import CodedCoef, ColumnCoef, linear_scores, quantized
from routing_model.places.regions import find_region
from routing_model.registry.starter import build_starter_registry
from routing_model.text.validation import validate_text
from training.adapt import adapt_and_save, adapt_head

SAMARINDA, LUWU_TIMUR = "Kota Samarinda", "Kabupaten Luwu Timur"
TEXTS = ["jalan rusak berlubang di kecamatan baleendah mohon diperbaiki", "pengurusan e-ktp lama sekali di disdukcapil"]


def _standard_registry(tmp_path, name: str):
    path = tmp_path / f"{name.replace(' ', '_')}.csv"
    path.write_text(build_starter_registry(find_region(name)).registry.to_csv(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_split(demo_model_dir, tmp_path_factory):
    """The demo model split into DATA_DIR/bases/<digest>/ and a head: (data dir, digest, head dir)."""
    data = tmp_path_factory.mktemp("deployment")
    head = data / "regions" / "kabupaten-bandung" / "models" / "v1"
    digest, _ = split_model(demo_model_dir, data / "bases", head)
    return data, digest, head


@pytest.fixture()
def deployment(demo_split, tmp_path):
    """A private copy of the split demo deployment, free to damage: (data dir, digest, head dir)."""
    data, digest, head = demo_split
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    return copy, digest, copy / head.relative_to(data)


def _refused(head, bases, match: str) -> None:
    with pytest.raises(ModelLoadError, match=match) as info:
        load_head(head, bases)
    assert "\n" not in str(info.value)


def test_the_declaration_names_the_shared_fields():
    assert {f.name for f in served_fields(PREDICTOR_STATE, BASE)} == {"views_", "function_model_", "function_codes_"}
    assert not served_fields(MODEL_STATE, BASE)  # the model's own fields (thresholds, mix, ...) are the region's


def test_a_split_model_suggests_as_the_whole_model(demo_model_dir, demo_split):
    data, digest, head = demo_split
    whole, split = persistence.load_served(demo_model_dir), persistence.load_served(head, data / "bases")
    assert is_head_dir(head) and read_card(head)["base_digest"] == digest
    assert [s.agencies for s in whole.suggest(TEXTS)] == [s.agencies for s in split.suggest(TEXTS)]
    assert [s.reasons for s in whole.suggest(TEXTS)] == [s.reasons for s in split.suggest(TEXTS)]
    assert split.version == whole.version


def test_load_served_finds_the_base_of_the_deployment_layout(demo_split):
    data, digest, head = demo_split
    model = persistence.load_served(head)  # no bases given: DATA_DIR/bases/<digest> above the head
    assert model.suggest(TEXTS[:1])[0].agencies


def test_heads_share_one_verified_mapped_base(demo_model_dir, demo_split, tmp_path):
    data, digest, head = demo_split
    card = adapt_head(data / "bases" / digest, REGISTRY_CSV, tmp_path / "second", opened=(opened := Bases()))
    assert card["base_digest"] == digest and card["layout"] == "head"
    a, b = load_head(head, data / "bases", opened), load_head(tmp_path / "second", data / "bases", opened)
    assert len(opened.opened) == 1
    assert a.classifier_.function_model_ is b.classifier_.function_model_
    coef = a.classifier_.function_model_.coef_
    assert isinstance(coef, np.memmap) and not coef.flags.writeable


def test_a_head_of_a_region_without_labels_is_small(demo_split, tmp_path):
    data, digest, _ = demo_split
    out = tmp_path / "luwu"
    adapt_head(data / "bases" / digest, _standard_registry(tmp_path, LUWU_TIMUR), out)
    size = sum(p.stat().st_size for p in out.iterdir())
    whole = sum(p.stat().st_size for p in (data / "bases" / digest).rglob("*") if p.is_file())
    assert size < whole / 3  # the topic model over the base's columns is most of it (docs/performance.md)


def test_a_missing_base_is_refused(deployment, tmp_path):
    data, digest, head = deployment
    _refused(head, tmp_path / "no-bases", f"needs base {digest[:12]}.*missing")
    shutil.rmtree(data / "bases" / digest)
    _refused(head, None, "missing")


def test_another_base_is_refused(deployment, lapor_model, tmp_path):
    data, digest, head = deployment
    other = tmp_path / "other"
    write_base(lapor_model, other)
    _refused(head, other, f"is not base {digest[:12]}")


def test_a_changed_base_array_is_refused(deployment):
    data, digest, head = deployment
    path = data / "bases" / digest / "function.coef.npy"
    body = bytearray(path.read_bytes())
    body[-1] ^= 1
    path.write_bytes(bytes(body))
    _refused(head, data / "bases", "function.coef.npy is missing or changed")


def test_a_base_of_another_schema_is_refused(deployment):
    data, digest, head = deployment
    path = data / "bases" / digest / BASE_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(record | {"schema": 99}), encoding="utf-8")
    _refused(head, data / "bases", "schema 99")


def test_a_head_made_for_another_base_schema_is_refused(deployment):
    data, digest, head = deployment
    write_card(head, read_card(head) | {"base_schema": 99})
    _refused(head, data / "bases", "base of schema 99")


def test_a_directory_that_is_not_a_base_is_refused(deployment):
    data, digest, head = deployment
    shutil.rmtree(data / "bases" / digest)
    (data / "bases" / digest).mkdir()
    (data / "bases" / digest / "notes.txt").write_text("not a base", encoding="utf-8")
    _refused(head, data / "bases", "is not a base directory")
    (data / "bases" / digest / BASE_FILE).write_text('{"format": "something-else"}', encoding="utf-8")
    _refused(head, data / "bases", "is not a base directory")


def test_a_changed_head_file_is_refused(deployment):
    data, digest, head = deployment
    np.save(head / "topic.intercept.npy", np.ones(3))
    _refused(head, data / "bases", "topic.intercept.npy is missing or changed")
    (head / "head.json").unlink()
    with pytest.raises(ModelLoadError, match="head.json is missing or changed"):
        persistence.load_served(head, data / "bases")


def test_a_head_is_not_written_on_a_base_it_was_not_adapted_from(demo_model, lapor_model, tmp_path):
    assert base_digest_of(demo_model) != base_digest_of(lapor_model)
    with pytest.raises(ModelLoadError, match="adapt it from that base"):
        write_head(demo_model, tmp_path / "head", base_digest_of(lapor_model))


def test_adapt_writes_a_head_from_a_base_and_refuses_head_without_one(demo_model_dir, demo_split, tmp_path):
    data, digest, _ = demo_split
    proc = run_cli("adapt", "--base", data / "bases" / digest, "--registry", REGISTRY_CSV, "--out", tmp_path / "h")
    assert proc.returncode == 0, proc.stderr
    assert f"head on base {digest}" in proc.stdout and is_head_dir(tmp_path / "h")
    suggested = run_cli("suggest", "--model", tmp_path / "h", TEXTS[0])  # no ancestor holds the base
    assert suggested.returncode == 2 and "missing" in suggested.stderr
    proc = run_cli("adapt", "--model", demo_model_dir, "--head", "--registry", REGISTRY_CSV, "--out", tmp_path / "x")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not one" in proc.stderr


def test_model_split_command(demo_model_dir, tmp_path):
    proc = run_cli("model", "split", demo_model_dir, "--out", tmp_path / "bases", "--head-out", tmp_path / "head")
    assert proc.returncode == 0, proc.stderr
    digest = read_card(tmp_path / "head")["base_digest"]
    assert (tmp_path / "bases" / digest / BASE_FILE).is_file() and digest in proc.stdout
    again = run_cli("model", "split", demo_model_dir, "--out", tmp_path / "bases", "--head-out", tmp_path / "head")
    assert again.returncode == 2 and "not empty" in again.stderr


def _digest_all(model, texts: dict[str, list[str]]) -> dict[str, str]:
    """Per source, one sha256 over the canonical suggestion (k=5, float.hex) of every routable shared text: LAPOR!
    one text at a time (each reads a few columns of the topic model), the tweets in batches of 200 (which read all
    of them): both ways the head computes its scores."""
    out = {}
    for name, rows in texts.items():
        h, size = hashlib.sha256(), 1 if name == "lapor" else 200
        for lo in range(0, len(rows), size):
            for suggestion in model.suggest(rows[lo : lo + size], k=5):
                h.update(canonical(suggestion).encode("utf-8") + b"\n")
        out[name] = h.hexdigest()
    return out


@pytest.fixture(scope="module")
def shared_texts(shared_data) -> dict[str, list[str]]:
    """Every shared text a model routes (the others are refused before any model reads them)."""
    out = {}
    for name, (path, column) in SOURCES.items():
        texts = pd.read_csv(path, dtype=str, keep_default_na=False)[column].tolist()
        out[name] = [t for t in texts if _routable(t)]
    return out


def _routable(text: str) -> bool:
    try:
        validate_text(text)
    except ValueError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("region", ["own", LUWU_TIMUR, SAMARINDA])
def test_a_head_on_the_shared_base_suggests_bit_for_bit_as_adapt(lapor_xlsx_training, shared_texts, region, tmp_path):
    """Every shared text, three registries: the head on the shared-data base == today's whole adapted model."""
    proc, model_dir = lapor_xlsx_training
    assert proc.returncode == 0, proc.stderr
    registry = REGISTRY_CSV if region == "own" else _standard_registry(tmp_path, region)
    digest, _ = split_model(model_dir, tmp_path / "bases", tmp_path / "base-head")
    adapt_and_save(model_dir, registry, tmp_path / "whole")
    card = adapt_head(tmp_path / "bases" / digest, registry, tmp_path / "head")
    assert card["base_digest"] == digest
    assert sum(map(len, shared_texts.values())) > 10000
    whole = _digest_all(persistence.load_served(tmp_path / "whole"), shared_texts)
    head = _digest_all(persistence.load_served(tmp_path / "head", tmp_path / "bases"), shared_texts)
    assert head == whole
    if region != "own":  # a standard registry without labels: the issue's < 1 MB on disk (about 0.5 MB)
        assert sum(p.stat().st_size for p in (tmp_path / "head").iterdir()) < 1_000_000


def test_a_packed_coefficient_matrix_gives_the_dense_numbers():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(4, 12)).astype(np.float32)
    dense[:, [0, 3, 4, 11]] = 0.0
    dense[2, 5] = -0.0
    packed = ColumnCoef.of(dense)
    assert len(packed.index) == 8 and packed.used.shape == (8, 4)
    columns = np.array([0, 1, 3, 5, 11])
    assert np.array_equal(packed.columns(columns), dense.T[columns])
    assert np.array_equal(packed.toarray(), dense) and np.array_equal(packed[2, :7], dense[2, :7])
    X = sp.csr_matrix(rng.random((3, 12)) * (rng.random((3, 12)) > 0.7))
    model = LinearScores(packed, np.zeros(4, np.float32), np.arange(4))
    assert np.array_equal(
        linear_scores(model, X), linear_scores(LinearScores(dense, model.intercept_, model.classes_), X)
    )


def test_coded_coefficients_give_back_exactly_the_quantized_numbers():
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(5, 40)).astype(np.float32)
    dense[:, [0, 7]] = 0.0
    dense[:, 9] = dense[:, 8] * 3.3  # a word of one document: proportional columns, one pattern
    coded_numbers = quantized(dense)
    assert np.all(np.abs(coded_numbers - dense) <= np.abs(dense).max(axis=0) / 254 + 1e-7)  # half a level
    assert CodedCoef.coded(dense) is None  # not on its levels: a head keeps its float32 columns instead
    coded = CodedCoef.coded(coded_numbers)
    assert coded is not None and coded.used.dtype == np.int8
    assert len(coded.index) == 38 and len(coded.used) == 37  # columns 8 and 9 share a pattern
    columns = np.array([0, 3, 8, 9, 39])
    assert np.array_equal(coded.columns(columns).view(np.uint32), coded_numbers.T[columns].view(np.uint32))
    assert np.array_equal(coded.toarray().view(np.uint32), coded_numbers.view(np.uint32))
    X = sp.csr_matrix(rng.random((3, 40)) * (rng.random((3, 40)) > 0.7))
    model = LinearScores(coded, np.zeros(5, np.float32), np.arange(5))
    dense_model = LinearScores(coded_numbers, model.intercept_, model.classes_)
    assert np.array_equal(linear_scores(model, X), linear_scores(dense_model, X))


def test_a_head_keeps_tables_and_names_in_their_smallest_exact_form():
    arrays = {
        "holders": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "prior": np.array([0.5, 2.0]),
        "classes": np.array(["Dinas Pendidikan", "Kecamatan Ciparay", ""]),
        "topic.classes": np.array([], dtype="<U1"),
    }
    small = compact(arrays)
    assert small["holders.bytes"].dtype == np.uint8 and "prior" in small and "classes.utf8" in small
    back = expand(small)
    assert back.keys() == arrays.keys()
    for name, array in arrays.items():
        assert back[name].dtype.kind == array.dtype.kind and back[name].tolist() == array.tolist()
