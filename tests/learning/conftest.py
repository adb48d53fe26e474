"""Fixtures for the learning-loop tests: a small base model, and one retrain of it through the CLI.

Training is the slow part (tens of seconds per model on a busy machine), so the models are
session-scoped and small (derived from the fictional demo complaints), with 3 calibration folds.
"""

from __future__ import annotations

import pytest
from learning_helpers import run_cli, write_datasets


@pytest.fixture(scope="session")
def datasets(tmp_path_factory):
    return write_datasets(tmp_path_factory.mktemp("learning_data"))


@pytest.fixture(scope="session")
def base_model_dir(datasets, tmp_path_factory):
    """A model trained on base.csv whose card records its training data, like `disposisi train` writes."""
    from routing_model import Registry, RoutingModel
    from routing_model.artifact import persistence
    from training.train import DEFAULT_CLASSIFIER_PARAMS, file_sha256, load_labeled

    registry = Registry.load()
    data = load_labeled(datasets["base"], registry)
    model = RoutingModel(registry, DEFAULT_CLASSIFIER_PARAMS).fit(data.texts, data.labels, data.frame["date"].tolist())
    out = tmp_path_factory.mktemp("learning_models") / "base"
    path = datasets["base"]
    training_data = {
        "path": str(path),
        "file_sha256": file_sha256(path),
        "rows": len(data.frame),
        "report": data.report(),
    }
    persistence.save(model, out, {"training_data": training_data})
    return out


@pytest.fixture(scope="session")
def retrained(datasets, base_model_dir, tmp_path_factory):
    """`disposisi retrain --model base --data new.csv --feedback feedback.csv --out DIR`: (process, dir)."""
    out = tmp_path_factory.mktemp("learning_retrained") / "challenger"
    proc = run_cli(
        "retrain",
        "--model",
        base_model_dir,
        "--out",
        out,
        "--data",
        datasets["new"],
        "--feedback",
        datasets["feedback"],
        "--seed",
        "0",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, out
