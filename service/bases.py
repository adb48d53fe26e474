"""The deployment's base models: ``DATA_DIR/bases/<digest>/``, each the shared part of a model made by
``disposisi train`` (``routing_model.artifact.bases``: uncompressed arrays mapped read-only by every worker, sealed by
one digest), with that model kept beside it for adapting new regions.

Every region's model is a small head naming its base by digest (``routing_model.artifact.heads``); the region row
records which (``regions.base_digest``). The deployment's base is the newest in ``bases/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from routing_model.errors import DisposisiError


class BaseModelError(DisposisiError, ValueError):
    """A base model that cannot be used, or a deployment without one; one line."""


def bases_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "bases"


def install_base(data_dir: str | Path, model_dir: str | Path) -> tuple[str, Path]:
    """(digest, path) of ``model_dir``'s base written into ``DATA_DIR/bases/<digest>/`` once the model loads
    (atomically: no half-written base is ever seen; one already there is kept). Installing it again makes it the
    newest, which later regions are adapted from."""
    from routing_model import ModelLoadError
    from routing_model.artifact.persistence import load
    from routing_model.artifact.split import write_base_into

    try:
        digest, target = write_base_into(load(model_dir), bases_dir(data_dir))
    except ModelLoadError as exc:
        raise BaseModelError(f"--base {model_dir} is not a usable model: {exc}") from None
    os.utime(target)  # the newest base is the deployment's
    return digest, target


def deployment_base(data_dir: str | Path) -> tuple[str, Path]:
    """(digest, path) of the deployment's base: the newest directory in ``DATA_DIR/bases``."""
    from routing_model.artifact.bases import BASE_FILE

    root = bases_dir(data_dir)
    found = (
        [p for p in root.iterdir() if not p.name.startswith(".") and (p / BASE_FILE).is_file()] if root.is_dir() else []
    )
    if not found:
        raise BaseModelError(
            f"this deployment has no base model yet ({root} is empty): the first region needs --base MODEL_DIR "
            "(a model made by `disposisi train`)"
        )
    newest = max(found, key=lambda p: (p.stat().st_mtime_ns, p.name))
    return newest.name, newest
