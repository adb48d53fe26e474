"""A directory of model versions with an atomically switched ``current`` pointer.

Layout: ``MODELS_DIR/<version>/`` (each a model directory written by ``RoutingModel.save``)
and ``MODELS_DIR/current``, a symbolic link to one of them. Switching the link with
``os.replace`` is atomic, so a reader sees either the old or the new model, never neither.
"""
from __future__ import annotations

import os
from pathlib import Path
from .errors import DisposisiError

CURRENT = "current"
PREVIOUS = "previous"


class ModelStoreError(DisposisiError, RuntimeError):
    """The models directory has no usable current model, or a switch was refused."""


def current_model_dir(models_dir: str | Path) -> Path:
    """The resolved directory ``current`` points to."""
    link = Path(models_dir) / CURRENT
    if not link.exists():
        raise ModelStoreError(f"{models_dir} has no '{CURRENT}' model; promote one with `disposisi promote`")
    return link.resolve()


def point(models_dir: str | Path, name: str, target: str | Path) -> None:
    """Atomically make ``models_dir/name`` a link to ``target`` (a sibling directory)."""
    models_dir = Path(models_dir)
    target = Path(target).resolve()
    if target.parent != models_dir.resolve():
        raise ModelStoreError(f"{target} is not inside {models_dir}")
    tmp = models_dir / f".{name}.{os.getpid()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target.name, tmp)
    os.replace(tmp, models_dir / name)
