"""Train a RoutingModel from a table of dispatched complaints and save it with its card."""

from __future__ import annotations

import time

from routing_model import Registry, RoutingModel
from routing_model.artifact.persistence import save
from routing_model.artifact.persistence import sha256_file as file_sha256  # noqa: F401 - also imported by training/learning/
from routing_model.errors import DisposisiError
from routing_model.io.tabular import column_name, read_table, require_columns
from routing_model.registry.agencies import DEFAULT_REGISTRY

from .fingerprints import fingerprints, pack
from .labeled_data import LabeledData, prepare_labeled

# Chosen inside 2021-2022 of the shared LAPOR! data only, never on the 2023 test year (`disposisi
# select`); the figures are in docs/quality.md ("How the settings were chosen").
DEFAULT_CLASSIFIER_PARAMS: dict = {"alpha": 1e-4, "function_alpha": 1e-4, "mention_boost": 3.0, "mandate_boost": 12.0}


def load_labeled(
    path, registry: Registry, text_column="text", label_column="agency", date_column="date"
) -> LabeledData:
    frame = read_table(path)
    cols = require_columns(frame, path, text=text_column, label=label_column)
    date_column = column_name(frame, date_column) if date_column else None
    return prepare_labeled(frame, registry, cols["text"], cols["label"], date_column)


def dates_of(data: LabeledData) -> list[str] | None:
    """The rows' dates when every row has one (the held-out period is then the latest)."""
    dates = [str(d) for d in data.frame["date"]] if "date" in data.frame else []
    return dates if dates and all(dates) else None


class TrainingDataError(DisposisiError, ValueError):
    """The labeled data cannot train a model; says what was skipped."""


def check_trainable(data: LabeledData) -> None:
    """Refuse, in one line a user can act on, data with nothing to learn from. A few rows are
    fine: the model then says it is small-data and leans on the functions and the registry."""
    if len(data.frame):
        return
    report = data.report()
    why = f"rows read {report['rows_read']}, usable 0, skipped {report['skipped']}"
    if report["unknown_labels"]:
        examples = ", ".join(f"'{name}'" for name in list(report["unknown_labels"])[:3])
        why += f"; labels not in the registry: {examples} (check --registry)"
    raise TrainingDataError(
        f"no usable labeled complaints to train on ({why}); a region without labels starts from a model trained "
        "elsewhere with `disposisi adapt`"
    )


def train_model(
    data: LabeledData, registry: Registry, classifier_params: dict | None = None, random_state: int = 0, progress=None
) -> RoutingModel:
    check_trainable(data)
    params = dict(DEFAULT_CLASSIFIER_PARAMS if classifier_params is None else classifier_params)
    return RoutingModel(registry, params, random_state=random_state).fit(
        data.texts, data.labels, dates_of(data), progress=progress
    )


def training_card(
    data: LabeledData, path, registry: Registry, registry_path, seconds: float, model: RoutingModel
) -> dict:
    """What the card says about the data a model learned from (no text, only counts and hashes)."""
    dates = sorted(d for d in data.frame["date"] if d)
    return {
        "training_data": {
            "path": str(path),
            "file_sha256": file_sha256(path),
            "rows_sha256": data.sha256(),
            "rows": len(data.frame),
            "date_range": [dates[0], dates[-1]] if dates else None,
            "report": data.report(),
        },
        "training_fingerprints": pack(fingerprints(data.texts)),  # the promotion gate excludes these rows
        "training_seconds": round(seconds, 2),
        "registry": {"path": str(registry_path), "agencies": len(registry), "active": len(registry.active)},
        "evaluation": {"held_out": model.calibration_},
    }


def train_and_save(
    path,
    out_dir,
    registry_path=DEFAULT_REGISTRY,
    text_column="text",
    label_column="agency",
    date_column="date",
    progress=None,
) -> dict:
    """The `disposisi train` job; returns the saved model card."""
    registry = Registry.load(registry_path)
    data = load_labeled(path, registry, text_column, label_column, date_column)
    started = time.perf_counter()
    model = train_model(data, registry, progress=progress)
    seconds = time.perf_counter() - started
    return save(model, out_dir, training_card(data, path, registry, registry_path, seconds, model))
