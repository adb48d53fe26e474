"""Admins' decisions of any region as function-labeled rows: what every region can teach the shared base.

A decision names an agency in its own region's registry ("Dinas PUTR Kab. Bandung", "Dinas
Pekerjaan Umum Kota Samarinda"): names no other region shares. What is shared is the function
the agency holds (urusan 1.03 pekerjaan umum, …; ``resources/functions.csv``). Each decision
becomes one row per function its agency holds, weighted 1/k for an agency of k functions (a merged
dinas's complaint counts 1/k for each: the weighting the function model already uses when it
learns from one region's labels, ``AgencyClassifier._fit_functions``). Rows carry the text
(already masked by the store), never the agency's name, so a base trained on them holds no
region's naming. Decisions naming an agency the region's registry does not know, or one that
holds no function, are counted and skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from routing_model.registry.agencies import Registry

COLUMNS = ("text", "function", "weight", "date", "region")


@dataclass
class FunctionRows:
    """Function-labeled rows and what was skipped (``counts``: decisions, rows, unknown_agency, no_function)."""

    frame: pd.DataFrame
    counts: Counter = field(default_factory=Counter)


def function_rows(decisions: pd.DataFrame, registry: Registry, region: str = "") -> FunctionRows:
    """``decisions`` (columns text, agency, optional date) of the region whose registry is ``registry``."""
    known = set(registry.catalogue.codes)
    counts: Counter = Counter(decisions=len(decisions))
    rows = []
    dates = decisions["date"] if "date" in decisions.columns else [""] * len(decisions)
    for text, name, date in zip(decisions["text"], decisions["agency"], dates):
        resolved = registry.resolve(str(name))
        if resolved is None:
            counts["unknown_agency"] += 1
            continue
        codes = [c for c in registry.get(resolved).functions if c in known]
        if not codes:
            counts["no_function"] += 1
            continue
        for code in codes:
            rows.append((str(text), code, 1.0 / len(codes), str(date or ""), region))
    counts["rows"] = len(rows)
    counts["used"] = counts["decisions"] - counts["unknown_agency"] - counts["no_function"]
    return FunctionRows(pd.DataFrame(rows, columns=list(COLUMNS)), counts)


def holders(registry: Registry, code: str) -> list[str]:
    """The active agencies of a registry that hold function ``code`` (how a function row reaches a region)."""
    return [a.name for a in registry.active if code in a.functions]
