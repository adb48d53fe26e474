"""Train a RoutingModel from a table of dispatched complaints and save it with its card."""
from __future__ import annotations

import time

from routing_model import Registry, RoutingModel
from routing_model.errors import DisposisiError
from routing_model.persistence import sha256_file as file_sha256  # noqa: F401 - also imported by learning/
from routing_model.registry import DEFAULT_REGISTRY
from routing_model.tabular import column_name, read_table, require_columns

from .labeled_data import LabeledData, prepare_labeled

# Chosen by `disposisi select --data ../shared/data/lapor/kab_bandung_2021_2023.csv --until 2023-01-01`
# (5-fold CV + a forward split inside 2021-2022, best mean of top-1 and top-3; the 2023 test
# year was not used). Held-out top-1 0.597, top-3 0.840. docs/quality.md has the full grid.
DEFAULT_CLASSIFIER_PARAMS: dict = {"C": 30.0, "registry_weight": 1.0, "mention_boost": 3.0, "mandate_boost": 8.0}


def load_labeled(path, registry: Registry, text_column="text", label_column="agency", date_column="date") -> LabeledData:
    frame = read_table(path)
    cols = require_columns(frame, path, text=text_column, label=label_column)
    date_column = column_name(frame, date_column) if date_column else None
    return prepare_labeled(frame, registry, cols["text"], cols["label"], date_column)


class TrainingDataError(DisposisiError, ValueError):
    """The labeled data cannot train a model (too few rows, one agency only); says what was skipped."""


def check_trainable(data: LabeledData, model: RoutingModel) -> None:
    """Refuse, in one line a user can act on, data the model cannot learn from.

    The model itself raises a bare ValueError for these; checking first turns a user's mistake
    (2 rows, labels the registry does not know) into a DisposisiError instead of a traceback.
    """
    report = data.report()
    why = f"rows read {report['rows_read']}, usable {report['rows_used']}, skipped {report['skipped']}"
    if report["unknown_labels"]:
        examples = ", ".join(f"'{name}'" for name in list(report["unknown_labels"])[:3])
        why += f"; labels not in the registry: {examples} (check --registry)"
    needed = 2 * int(getattr(model, "calibration_folds", 5))
    if len(data.frame) < needed:
        raise TrainingDataError(f"need at least {needed} usable labeled complaints to train, got {len(data.frame)} ({why})")
    if data.frame["label"].nunique() < 2:
        raise TrainingDataError(f"need complaints of at least 2 agencies to train, got {data.frame['label'].nunique()} ({why})")


def train_model(data: LabeledData, registry: Registry, classifier_params: dict | None = None, random_state: int = 0) -> RoutingModel:
    params = dict(DEFAULT_CLASSIFIER_PARAMS if classifier_params is None else classifier_params)
    model = RoutingModel(registry, params, random_state=random_state)
    check_trainable(data, model)
    return model.fit(data.texts, data.labels)


def train_and_save(path, out_dir, registry_path=DEFAULT_REGISTRY, text_column="text", label_column="agency", date_column="date") -> dict:
    """The `disposisi train` job; returns the saved model card."""
    registry = Registry.load(registry_path)
    data = load_labeled(path, registry, text_column, label_column, date_column)
    started = time.perf_counter()
    model = train_model(data, registry)
    seconds = time.perf_counter() - started
    dates = sorted(d for d in data.frame["date"] if d)
    card_extra = {
        "training_data": {
            "path": str(path),
            "file_sha256": file_sha256(path),
            "rows_sha256": data.sha256(),
            "rows": len(data.frame),
            "date_range": [dates[0], dates[-1]] if dates else None,
            "report": data.report(),
        },
        "training_seconds": round(seconds, 2),
        "registry": {"path": str(registry_path), "agencies": len(registry), "active": len(registry.active)},
        "evaluation": {"out_of_fold": model.calibration_},
    }
    return model.save(out_dir, card_extra)
