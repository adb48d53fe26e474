"""card.json is sealed by card.sha256: a card edited by hand is refused wherever it is read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from routing_model import ModelLoadError
from routing_model.artifact import persistence
from routing_model.artifact.persistence import CARD_DIGEST_FILE, card_digest, read_card, verify_model_dir, write_card

DISPOSISI = Path(sys.executable).parent / "disposisi"


@pytest.fixture()
def model_copy(demo_model_dir, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(demo_model_dir, out)
    return out


def _edit(model_dir: Path, change) -> None:
    """Change card.json the way a person with an editor would: without re-sealing it."""
    path = model_dir / "card.json"
    card = json.loads(path.read_text(encoding="utf-8"))
    change(card)
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")


def test_saved_model_has_a_seal_matching_its_card(demo_model_dir):
    card = read_card(demo_model_dir)
    assert (demo_model_dir / CARD_DIGEST_FILE).read_text().strip() == card_digest(card)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.update(review_threshold=0.01),
        lambda c: c.update(version="20990101T000000Z-forged"),
        lambda c: c.setdefault("champion_challenger", {}).update(
            per_row={"challenger_top1": "1111", "champion_top1": "0000"}
        ),
        lambda c: (
            c["calibration"].update(temperature=9.0)
            if isinstance(c.get("calibration"), dict)
            else c.update(calibration={"t": 1})
        ),
    ],
)
def test_hand_edited_card_is_refused_with_one_line(model_copy, change):
    _edit(model_copy, change)
    with pytest.raises(ModelLoadError, match="card.json was changed after the model was saved") as info:
        persistence.load(model_copy)
    assert "\n" not in str(info.value)
    with pytest.raises(ModelLoadError, match="changed after"):
        verify_model_dir(model_copy)  # what `disposisi serve` checks before starting workers


def test_reformatted_card_still_loads(model_copy):
    path = model_copy / "card.json"
    card = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(reversed(list(card.items()))), ensure_ascii=True), encoding="utf-8")  # same content
    assert persistence.load(model_copy).card_["version"] == card["version"]


def test_missing_or_damaged_seal_is_refused(model_copy):
    seal = model_copy / CARD_DIGEST_FILE
    seal.write_text("0" * 64 + "\n")
    with pytest.raises(ModelLoadError, match="changed after"):
        persistence.load(model_copy)
    seal.unlink()
    with pytest.raises(ModelLoadError, match="card.sha256 is missing"):
        persistence.load(model_copy)


def test_resealed_card_is_the_one_way_to_change_it(model_copy):
    card = read_card(model_copy)
    card["note"] = "reviewed by the data team"
    write_card(model_copy, card)
    assert persistence.load(model_copy).card_["note"] == "reviewed by the data team"


def test_cli_refuses_an_edited_card_in_one_line(model_copy):
    _edit(model_copy, lambda c: c.update(review_threshold=0.0))
    proc = subprocess.run(
        [str(DISPOSISI), "suggest", "--model", str(model_copy), "jalan rusak di desa jelekong"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "card.json was changed after the model was saved" in proc.stderr
