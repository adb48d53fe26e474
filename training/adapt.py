"""`disposisi adapt`: a model for a new region from a model trained elsewhere.

What the base model learned about functions (what complaints about roads, e-KTP or social aid
look like) carries over; the new registry's agencies and places, and the region's own labeled
complaints when there are any, make the local part. Zero labels work; more labels help.
"""

from __future__ import annotations

import time

from routing_model import Registry, RoutingModel
from routing_model.artifact.bases import Bases
from routing_model.artifact.heads import write_head
from routing_model.artifact.persistence import load, save
from routing_model.artifact.split import open_for_adapt, training_model
from routing_model.errors import DisposisiError

from .labeled_data import LabeledData
from .train import DEFAULT_CLASSIFIER_PARAMS, dates_of, load_labeled, training_card


def inbox_summary(registry: Registry) -> dict:
    """What an inbox registry holds: its scope ("national" or the province) and its instances by kind."""
    governments = [a for a in registry.active if a.kind == "daerah"]
    provinces = sorted(a.place for a in governments if "/" not in a.place)
    return {
        "scope": "national" if len(provinces) != 1 else provinces[0],
        "governments": len(governments),
        "national_bodies": sum(a.kind == "nasional" for a in registry.active),
    }


class AdaptError(DisposisiError, ValueError):
    """The base model or the registry cannot be adapted; the message says why."""


def adapt_model(
    base: RoutingModel, registry: Registry, data: LabeledData | None = None, random_state: int = 0, progress=None
) -> RoutingModel:
    if registry.region is None and not registry.is_inbox:
        raise AdaptError(
            f"{registry.source or 'the registry'} names no region; give its pemerintah_daerah row the place "
            "'Province/Kabupaten or Kota' (or write one with `disposisi registry init`)"
        )
    params = {
        **DEFAULT_CLASSIFIER_PARAMS,
        **{k: v for k, v in base.classifier_params.items() if k in DEFAULT_CLASSIFIER_PARAMS},
    }
    model = RoutingModel(registry, params, base.target_precision, random_state=random_state)
    texts, labels, dates = (data.texts, data.labels, dates_of(data)) if data is not None else ([], [], None)
    return model.adapt(base, texts, labels, dates, progress=progress)


def adapt_and_save(
    base_dir,
    registry_path,
    out_dir,
    data_path=None,
    text_column="text",
    label_column="agency",
    date_column="date",
    progress=None,
) -> dict:
    """The `disposisi adapt` job; returns the saved model card."""
    base = load(base_dir)
    columns = (text_column, label_column, date_column)
    model, extra = _adapted(base, {"path": str(base_dir)}, registry_path, data_path, columns, progress)
    return save(model, out_dir, extra)


def adapt_head(
    base_dir,
    registry_path,
    out_dir,
    data_path=None,
    text_column="text",
    label_column="agency",
    date_column="date",
    progress=None,
    opened: Bases | None = None,
) -> dict:
    """`disposisi adapt` from a base directory (``DATA_DIR/bases/<digest>/``): the region's model as a head on
    that base, written into ``out_dir`` (e.g. ``DATA_DIR/regions/<slug>/models/<version>/``); returns its card.
    It suggests exactly as ``adapt_and_save`` from the base's model would. ``opened``: the caller's ``Bases``, so
    adapting many regions loads the base's training model once."""
    base = open_for_adapt(base_dir, opened)
    columns = (text_column, label_column, date_column)
    model, extra = _adapted(training_model(base), {"digest": base.digest}, registry_path, data_path, columns, progress)
    return write_head(model, out_dir, base.digest, extra)


def _adapted(source: RoutingModel, where: dict, registry_path, data_path, columns, progress):
    """(model, card fields): ``source`` adapted to the registry (and the labeled file); ``where`` says how the card
    names the base (its path, or its digest in a deployment)."""
    registry = Registry.load(registry_path)
    data = load_labeled(data_path, registry, *columns) if data_path else None
    started = time.perf_counter()
    model = adapt_model(source, registry, data, progress=progress)
    extra = _adapt_card(model, registry, registry_path, data, data_path, time.perf_counter() - started)
    card = source.card_ or {}
    extra["base_model"] = {"version": card.get("version"), "region": card.get("region"), **where}
    return model, extra


def _adapt_card(model, registry, registry_path, data, data_path, seconds: float) -> dict:
    """What an adapted model's card says of its training: the local data (or none), the registry, the time;
    for an inbox (the first door), its instances, for the deployment that serves it."""
    if data is not None:
        card = training_card(data, data_path, registry, registry_path, seconds, model)
    else:
        card = {
            "training_data": None,
            "training_seconds": round(seconds, 2),
            "registry": {"path": str(registry_path), "agencies": len(registry), "active": len(registry.active)},
            "evaluation": {"held_out": model.calibration_},
        }
    if registry.is_inbox:
        card["inbox"] = inbox_summary(registry)
    return card
