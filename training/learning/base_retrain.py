"""A challenger base from every region's decisions: the shared part every region's head stands on, taught more.

The base keeps what it learnt before (its registry, its own labeled complaints: the training data file its
``training/`` card records) and learns in addition from every region's decisions mapped through their agencies'
functions (``function_rows``): they feed the shared vocabularies, under the vocabulary rule, and the function model,
never the base registry's topic model (``RoutingModel.fit(function_rows=)``). No decision's text is stored: the card
records how many rows each region gave and their fingerprints (the promotion gate drops the rows a model saw).

Two bases are fitted: the final one on everything, and the comparison's, without any region's comparison slice, so a
region's challenger adapted from it is judged on decisions neither model saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from routing_model import RoutingModel
from routing_model.model.fit.function_labels import FunctionLabels
from routing_model.registry.agencies import REPO_ROOT
from training.fingerprints import fingerprint, pack
from training.train import load_labeled

from .retrain import RetrainError


@dataclass
class Taught:
    """Every region's function rows (columns of ``function_rows.COLUMNS``) and what each region gave or skipped."""

    frame: pd.DataFrame
    counts: dict[str, dict] = field(default_factory=dict)


def gathered(parts: Iterable[tuple[str, pd.DataFrame, dict]]) -> Taught:
    """One ``Taught`` from (region, its function rows, its counts) per region."""
    frames, counts = [], {}
    for region, frame, region_counts in parts:
        frames.append(frame)
        counts[region or "(this deployment)"] = {k: int(v) for k, v in region_counts.items()}
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["text", "function", "weight"])
    return Taught(frame, counts)


def own_rows(parent: RoutingModel) -> tuple[list[str], list[str], list[str]]:
    """The base's own labeled complaints (texts, labels, dates), re-read from the file its card records; none when
    it learnt from none (catalogue and registry only). A recorded file that is gone is an error."""
    info = (parent.card_ or {}).get("training_data") or {}
    if not info.get("path"):
        return [], [], []
    path = next((p for p in (Path(info["path"]), REPO_ROOT / info["path"]) if p.is_file()), None)
    if path is None:
        raise RetrainError(f"the base's training data ({info['path']}) is missing; restore it")
    columns = info.get("columns") or {}
    data = load_labeled(
        path, parent.registry, columns.get("text", "text"), columns.get("label", "agency"), columns.get("date", "date")
    )
    dates = [str(d) for d in data.frame["date"]]
    return data.texts, data.labels, dates


def fit_base(parent: RoutingModel, own: tuple[list, list, list], rows: pd.DataFrame, seed: int = 0) -> RoutingModel:
    """A base like ``parent`` (registry, parameters), fitted on its own rows and ``rows`` (function rows); its card
    keeps the parent's training data record, with the function rows' counts and fingerprints beside it."""
    texts, labels, dates = own
    model = RoutingModel(parent.registry, parent.classifier_params, parent.target_precision, random_state=seed)
    model.fit(texts, labels, dates if all(dates) else None, function_rows=FunctionLabels.from_frame(rows))
    card = dict(parent.card_ or {})
    record = dict(card.get("training_data") or {}) if card.get("training_data") else {}
    record["function_rows"] = {
        "rows": len(rows),
        "texts": int(rows["text"].nunique()),
        "fingerprints": pack(fingerprint(t) for t in rows["text"]),
    }
    model.card_ = {"training_data": record, "registry": card.get("registry")}
    return model


def without(rows: pd.DataFrame, held_out: set[str]) -> pd.DataFrame:
    """The function rows whose text is not among ``held_out`` (fingerprints): the comparison base's."""
    keep = [fingerprint(t) not in held_out for t in rows["text"]]
    return rows[keep].reset_index(drop=True)


def seen(rows: pd.DataFrame) -> frozenset[str]:
    return frozenset(fingerprint(t) for t in rows["text"])
