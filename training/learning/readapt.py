"""Retrain a region's model that was *adapted* from a base (``disposisi adapt``), from its admins' decisions.

``retrain`` refits a whole model on the champion's training data; an adapted model has a base and
perhaps no training data of its own (a new region with no labels). Here the challenger is adapted
again from the same base (its card's ``base_model.path``), with the region's labeled complaints
(if it had any) plus its decisions as local labels. The comparison is the one ``retrain``
records: the newest slice of those rows is held out, a challenger adapted without it is scored
against the champion on it, and the final challenger is adapted on everything. The card carries
the same ``champion_challenger`` block, so the gate of ``disposisi promote`` judges it unchanged.

A region of a deployment is a *head* on the deployment's shared base (``artifact.heads``): its champion is scored as
the service serves it (``load_served``), the challenger is adapted from the base's training model (the base named by
the head's digest, in ``DATA_DIR/bases``) and written as a head on that same base.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from routing_model import ModelLoadError, Registry, RoutingModel
from routing_model.artifact.bases import Bases
from routing_model.artifact.heads import LAYOUT, find_base, write_head
from routing_model.artifact.persistence import load, load_served, read_card, save
from routing_model.artifact.split import open_for_adapt, training_model
from training.adapt import adapt_model
from training.fingerprints import fingerprints, pack, unpack

from .feedback import load_feedback
from .retrain import (
    ModelWriter,
    RetrainError,
    _as_training_frame,
    _check_outputs,
    _comparison,
    _write_atomically,
    combine,
    default_training_data_path,
    holdout_mask,
    training_record,
)


def is_adapted(card: dict) -> bool:
    """The model was made by ``disposisi adapt``: it names its base model's directory, or it is a head on a base."""
    return bool((card.get("base_model") or {}).get("path")) or card.get("layout") == LAYOUT


def champion_and_base(model_dir: Path, bases=None) -> tuple[RoutingModel, RoutingModel, ModelWriter]:
    """The champion (as scored), the model to adapt the challenger from, and how the challenger is written: a whole
    model beside its base's path, or a head on the champion's own base (``bases``: ``DATA_DIR/bases`` or the base
    directory; default: ``bases/`` above the head)."""
    card = read_card(model_dir)
    if card.get("layout") != LAYOUT:
        base_path = card["base_model"]["path"]
        if not Path(base_path).is_dir():
            raise RetrainError(f"the base {base_path} that {model_dir} was adapted from is missing; restore it")
        return load(model_dir), load(base_path), save
    digest = str(card.get("base_digest"))
    try:
        base_dir = find_base(card, model_dir, bases)
    except ModelLoadError:
        where = Path(bases) / digest if bases is not None else f"bases/{digest}"
        raise RetrainError(
            f"the base {digest} that {model_dir} is a head on is missing ({where} not found); restore it"
        ) from None
    opened = Bases()
    champion = load_served(model_dir, base_dir, opened)  # every head file's digest and the base checked
    base = open_for_adapt(base_dir, opened)
    if base.digest != digest:
        raise RetrainError(f"{base_dir} holds base {base.digest}, not the base {digest} that {model_dir} is a head on")
    return champion, training_model(base), partial(_write_head, digest=digest)


def _write_head(model: RoutingModel, out_dir: Path, card_extra: dict, digest: str) -> dict:
    return write_head(model, out_dir, digest, card_extra)


def _own_rows(card: dict) -> pd.DataFrame | None:
    """The region's labeled complaints the champion was adapted with, if it had any."""
    path = (card.get("training_data") or {}).get("path")
    if not path or not Path(path).is_file():
        return None
    from routing_model.io.tabular import read_table

    return _as_training_frame(read_table(path), path, "base")


@dataclass(frozen=True)
class NewBase:
    """A challenger base the base job trained (``training.learning.base_retrain``): the comparison's, which learnt
    no region's comparison slice, and the final one, written as base ``digest``; and the texts the comparison's
    learnt from other regions (fingerprints), so the gate drops the slice rows it saw through its base."""

    comparison: RoutingModel
    final: RoutingModel
    digest: str
    seen_by_comparison: frozenset[str] = frozenset()


@dataclass
class RegionRows:
    """A region's labeled rows as ``readapt`` learns from them: its own labeled complaints and its decisions,
    combined, and which of them are the comparison slice (``mask``)."""

    data: object  # LabeledData
    sources: pd.Series
    feedback: object  # FeedbackLabels
    excluded: int
    own_texts: pd.Series
    mask: object
    cut: str
    rule: str

    def slice_texts(self) -> list[str]:
        return self.data.frame["text"][self.mask].tolist()


def region_rows(card: dict, feedback: str, registry: Registry, feedback_region: str | None) -> RegionRows:
    """The rows a region's challenger learns from (its own labels as its champion had them, then its decisions,
    the latest winning) and the newest slice the comparison holds out; RetrainError when there is nothing."""
    fb = load_feedback(feedback, registry, skip_unknown=True, region=feedback_region)
    parts = [p for p in (_own_rows(card),) if p is not None]
    if len(fb.labels):
        parts.append(fb.labels[["text", "agency", "date"]].assign(source="feedback"))
    if not parts:
        raise RetrainError("no labeled complaints and no decisions to learn from")
    data, sources, excluded = combine(parts, registry, fb.negatives)
    if len(data.frame) == 0:
        raise RetrainError("no usable labeled complaints to learn from")
    mask, cut, rule = holdout_mask(data.frame, None)
    own_texts = parts[0]["text"] if parts[0]["source"].iloc[0] == "base" else pd.Series([], dtype=object)
    return RegionRows(data, sources, fb, excluded, own_texts, mask, cut, rule)


def readapt(
    model_dir,
    out_dir,
    feedback: str,
    registry_path,
    feedback_region: str | None = None,
    training_data_out=None,
    seed: int = 0,
    bases=None,
    onto: NewBase | None = None,
) -> dict:
    """A challenger adapted again from the champion's base with the region's decisions; returns its card.
    ``bases``: where a head champion's base is (``DATA_DIR/bases``; default: ``bases/`` above the head).
    ``onto``: adapt it from a new base instead (the base job), written as a head on that base."""
    out_dir = Path(out_dir)
    data_out = Path(training_data_out) if training_data_out else default_training_data_path(out_dir)
    _check_outputs(out_dir, data_out)
    champion, base, writer = champion_and_base(Path(model_dir), bases)
    card = champion.card_
    registry = Registry.load(registry_path)
    rows = region_rows(card, feedback, registry, feedback_region)
    data, mask = rows.data, rows.mask
    compare_from, final_from = (onto.comparison, onto.final) if onto is not None else (base, base)
    train_cmp, slice_ = data.frame[~mask], data.frame[mask]
    started = time.perf_counter()
    challenger_cmp = adapt_model(compare_from, registry, _subset(data, ~mask), random_state=seed)
    comparison = _comparison(
        champion, card, challenger_cmp, train_cmp, slice_, rows.rule, rows.cut, rows.own_texts, seed
    )
    # what each model saw of the slice through its base (other regions' decisions): the gate drops those rows too;
    # only the slice's part is recorded, so a head's card stays the size of its own rows
    slice_prints = set(fingerprints(slice_["text"]))
    comparison["champion"]["seen_through_base"] = pack(base_seen(base) & slice_prints)
    through = (onto.seen_by_comparison if onto is not None else base_seen(base)) & slice_prints
    block = comparison["challenger"]
    block["training_fingerprints"] = pack(unpack(block["training_fingerprints"]) | through)
    final = adapt_model(final_from, registry, data, random_state=seed)
    seconds = time.perf_counter() - started
    table, record = training_record(data, rows.sources, rows.feedback, rows.excluded, data_out)
    base_model = dict(card["base_model"])
    if onto is not None:
        writer = partial(_write_head, digest=onto.digest)
        base_card = onto.final.card_ or {}
        base_model = {"version": base_card.get("version"), "region": base_model.get("region"), "digest": onto.digest}
    card_extra = {
        "training_data": record,
        "training_fingerprints": pack(fingerprints(data.texts)),
        "parent": {"version": card.get("version"), "path": str(Path(model_dir).resolve())},
        "base_model": base_model,
        "champion_challenger": comparison,
        "training_seconds": round(seconds, 2),
        "registry": {"path": str(registry_path), "agencies": len(registry), "active": len(registry.active)},
        "evaluation": {"held_out": final.calibration_},
    }
    return _write_atomically(final, card_extra, table, out_dir, data_out, writer)


def base_seen(base: RoutingModel) -> frozenset[str]:
    """Fingerprints of the other regions' texts a base learnt (its card's ``training_data.function_rows``)."""
    rows = ((base.card_ or {}).get("training_data") or {}).get("function_rows") or {}
    return frozenset(unpack(rows.get("fingerprints")) or ())


def _subset(data, keep):
    """The LabeledData of the rows ``keep`` (the comparison challenger's)."""
    import copy

    part = copy.copy(data)
    part.frame = data.frame[keep].reset_index(drop=True)
    return part
