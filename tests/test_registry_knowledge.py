"""Model-behaviour tests: what the registry knows reaches the suggestions.

The demo data has no complaint at all for these agencies; only their registry row (name,
aliases, mandate) can put them on top.
"""

import pytest

NO_HISTORY = [
    (
        "Ternak sapi warga banyak yang sakit mulut dan kuku, mohon vaksin dari dinas peternakan",
        "Dinas Perikanan dan Peternakan Kab. Bandung",
    ),
    (
        "Perpustakaan desa tutup terus, buku bacaan anak tidak ada, mohon perpustakaan keliling datang",
        "Dinas Perpustakaan dan Kearsipan Kab. Bandung",
    ),
]


def test_these_agencies_really_have_no_demo_history(demo_model):
    for _, agency in NO_HISTORY:
        assert agency not in demo_model.label_counts_
        assert agency in demo_model.classes_


@pytest.mark.parametrize("text,agency", NO_HISTORY)
def test_agency_without_past_complaints_is_suggested_from_its_mandate(demo_model, text, agency):
    (s,) = demo_model.suggest([text], k=3)
    assert s.top == agency
    assert s.reasons, "the suggestion must say which words drove it"


def test_naming_an_agency_pulls_it_up(demo_model):
    text = "Mohon bantuan, ada masalah di lingkungan kami yang belum selesai"
    plain = dict(demo_model.suggest([text], k=len(demo_model.classes_))[0].agencies)
    named = dict(
        demo_model.suggest([text + ". Kepada Dishub Kabupaten Bandung"], k=len(demo_model.classes_))[0].agencies
    )
    assert named["Dinas Perhubungan Kab. Bandung"] > 2 * plain["Dinas Perhubungan Kab. Bandung"]


def test_retired_agency_is_never_a_class(registry):
    from routing_model.registry.agencies import Registry

    rows = registry.to_csv().splitlines()
    header, body = rows[0], rows[1:]
    retired = [r.replace(",active,", ",retired,") if r.startswith("Dinas Perpustakaan") else r for r in body]
    changed = Registry.from_csv_text("\n".join([header, *retired]))
    assert "Dinas Perpustakaan dan Kearsipan Kab. Bandung" not in {a.name for a in changed.active}
    assert changed.resolve("Dispusip") == "Dinas Perpustakaan dan Kearsipan Kab. Bandung"
