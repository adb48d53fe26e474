"""Decisions of any region become function-labeled rows: one row per function of the agency, weighted 1/k."""

from __future__ import annotations

import pandas as pd
from learning_helpers import DINSOS, PUTR

KOMINFO = "Dinas Komunikasi dan Informatika, Statistik dan Persandian Kab. Bandung"  # three functions

from routing_model import Registry
from training.learning.function_rows import function_rows, holders


def test_each_decision_becomes_one_row_per_function_of_its_agency_and_unknown_names_are_counted():
    registry = Registry.load()
    decisions = pd.DataFrame(
        {
            "text": ["internet desa mati", "bansos tidak cair", "entah", "jalan berlubang"],
            "agency": [KOMINFO, DINSOS, "Dinas Yang Tidak Ada", "dinas pekerjaan umum dan tata ruang kab. bandung"],
            "date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        }
    )
    rows = function_rows(decisions, registry, region="kabupaten-bandung")
    merged = [c for c in registry.get(KOMINFO).functions if c in set(registry.catalogue.codes)]
    assert len(merged) == 3  # a merged dinas: three functions, each row a third
    first = rows.frame[rows.frame["text"] == "internet desa mati"]
    assert sorted(first["function"]) == sorted(merged) and set(first["weight"]) == {1.0 / 3}
    assert list(rows.frame[rows.frame["text"] == "jalan berlubang"]["function"]) == ["1.03"]  # an alias resolves
    assert abs(rows.frame.groupby("text")["weight"].sum() - 1.0).max() < 1e-12  # every decision counts once
    assert rows.counts["unknown_agency"] == 1 and rows.counts["used"] == 3 and rows.counts["decisions"] == 4
    assert set(rows.frame["region"]) == {"kabupaten-bandung"}
    assert "agency" not in rows.frame.columns  # no region's naming in a row
    assert all(KOMINFO in holders(registry, code) for code in merged) and PUTR in holders(registry, "1.03")
