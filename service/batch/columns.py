"""Suggestion columns added to an output table, shared by `classify` and the batch engine."""

from __future__ import annotations

from routing_model.model.predict.suggestion import Suggestion

# A spreadsheet executes a cell that starts with one of these; prefix it with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def suggestion_columns(k: int) -> list[str]:
    cols = []
    for i in range(1, k + 1):
        cols += [f"agency_{i}", f"score_{i}"]
    return cols + ["needs_review", "outside_region", "model_version"]


def suggestion_row(s: Suggestion, k: int, model_version: str) -> dict:
    row: dict = {}
    for i in range(k):
        agency, score = s.agencies[i] if i < len(s.agencies) else ("", None)
        row[f"agency_{i + 1}"] = agency
        row[f"score_{i + 1}"] = "" if score is None else f"{score:.4f}"
    row["needs_review"] = "true" if s.needs_review else "false"
    row["outside_region"] = s.outside_region["region"] if s.outside_region else ""
    row["model_version"] = model_version
    return row


def neutralise_formula(value):
    """Make a cell safe to open in Excel/LibreOffice (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
