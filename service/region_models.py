"""A region's model, made from the deployment's base: a small head over the shared base
(``training.adapt.adapt_head``). Nothing else in the deployment knows how a region's model is made: callers get the
directory ``current`` points to, under ``DATA_DIR/regions/<slug>/models/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .bases import deployment_base
from .regions import models_dir


def build_region_model(data_dir: str | Path, slug: str, registry_path: str | Path, labeled=None) -> Path:
    """Adapt the deployment's base to the region's registry (and its labeled complaints, a CSV or LAPOR! export with
    text and agency columns, when given) into ``models/<version>/`` and point ``current`` at it; the model directory.

    Written into a temporary sibling first and renamed: a failure leaves no half-written model."""
    from routing_model.artifact.store import point
    from training.adapt import adapt_head

    _, base_dir = deployment_base(data_dir)
    root = models_dir(data_dir, slug)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".adapt.", dir=root))
    try:
        card = adapt_head(base_dir, registry_path, tmp / "m", str(labeled) if labeled else None)
        target = root / card["version"]
        os.replace(tmp / "m", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    point(root, "current", target)
    return target
