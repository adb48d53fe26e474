"""The served form (``served.npz``): the service's model suggests exactly as the trained one,
loads without scikit-learn, skops or pickle, and is verified like ``model.skops``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from model_helpers import LAPOR_CSV, sha256

from routing_model import ModelLoadError
from routing_model.artifact import persistence
from routing_model.artifact.persistence import write_card
from routing_model.artifact.served import SERVED_FILE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_served_form_suggests_exactly_as_the_trained_model_on_the_shared_data(lapor_xlsx_training):
    proc, out = lapor_xlsx_training
    assert proc.returncode == 0, proc.stderr
    full, served = persistence.load(out), persistence.load_served(out)
    assert type(served.classifier_).__name__ == "AgencyPredictor"  # not the scikit-learn estimator
    texts = [t for t in pd.read_csv(LAPOR_CSV, dtype=str, keep_default_na=False)["text"] if len(t.split()) >= 3]
    assert len(texts) > 500
    assert np.array_equal(full.predict_proba(texts), served.predict_proba(texts))
    a, b = full.suggest(texts, k=5), served.suggest(texts, k=5)
    assert a == b  # agencies with their exact confidences, review, reasons, warnings, other region
    assert any(s.outside_region for s in b) and any(s.reasons for s in b)
    assert served.version == full.version and list(served.classes_) == list(full.classes_)
    assert (served.review_threshold_, served.review_thresholds_) == (full.review_threshold_, full.review_thresholds_)


@pytest.mark.slow
def test_loading_the_served_form_imports_neither_scikit_learn_nor_skops(demo_model_dir):
    code = (
        "import sys\n"
        "from routing_model.artifact import persistence\n"
        f"m = persistence.load_served({str(demo_model_dir)!r})\n"
        "m.suggest(['jalan rusak parah di desa jelekong kecamatan baleendah'])\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'sklearn', 'skops', 'pandas'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_changed_served_file_is_refused(model_copy):
    path = model_copy / SERVED_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="served.npz does not match its card"):
        persistence.load_served(model_copy)
    with pytest.raises(ModelLoadError, match="served.npz does not match its card"):
        persistence.load(model_copy)  # the full load verifies what the service would load too


def test_a_missing_served_file_says_to_retrain(model_copy):
    (model_copy / SERVED_FILE).unlink()
    with pytest.raises(ModelLoadError, match=r"served.npz is missing; retrain"):
        persistence.load_served(model_copy)


class _Planted:
    def __reduce__(self):
        return (Path.touch, (Path(_Planted.marker),))


def test_a_served_file_holding_a_pickle_runs_no_code_even_when_sealed(model_copy, tmp_path):
    """Someone who can write the model directory (and re-seal the card) still cannot make the
    service run code: the served form is read with allow_pickle=False."""
    _Planted.marker = str(tmp_path / "code-ran")
    path = model_copy / SERVED_FILE
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["prior"] = np.array([_Planted()], dtype=object)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    card = json.loads((model_copy / "card.json").read_text(encoding="utf-8"))
    card["served_sha256"] = sha256(path)
    write_card(model_copy, card)
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        persistence.load_served(model_copy)
    assert not Path(_Planted.marker).exists()
