"""The deployment's base models: ``DATA_DIR/bases/<digest>/``, each a copy of a model made by ``disposisi train``.

A base is named by its sealed digest (the sha256 its ``card.sha256`` records: the card carries the digests of every
model file, so the seal covers the whole model). Every region of the deployment is adapted from one of them; the
region row records which (``regions.base_digest``). The deployment's base is the newest in ``bases/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from routing_model.errors import DisposisiError


class BaseModelError(DisposisiError, ValueError):
    """A base model that cannot be used, or a deployment without one; one line."""


def bases_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "bases"


def sealed_digest(model_dir: str | Path) -> str:
    """The digest a model directory's card is sealed with (``card.sha256``), once the card checks against it."""
    from routing_model.artifact.persistence import card_digest, read_card

    return card_digest(read_card(model_dir))


def install_base(data_dir: str | Path, model_dir: str | Path) -> tuple[str, Path]:
    """(digest, path) of ``model_dir`` copied into ``DATA_DIR/bases/<digest>/`` once it loads; copied whole into a
    temporary sibling and renamed, so no half-copied base is ever seen. Installing it again makes it the newest."""
    from routing_model import ModelLoadError
    from routing_model.artifact.persistence import load

    try:
        load(model_dir)
        digest = sealed_digest(model_dir)
    except ModelLoadError as exc:
        raise BaseModelError(f"--base {model_dir} is not a usable model: {exc}") from None
    target = bases_dir(data_dir) / digest
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}.", dir=target.parent))
        try:
            shutil.copytree(model_dir, tmp / "m", symlinks=False)
            os.replace(tmp / "m", target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    os.utime(target)  # the newest base is the deployment's
    return digest, target


def deployment_base(data_dir: str | Path) -> tuple[str, Path]:
    """(digest, path) of the deployment's base: the newest directory in ``DATA_DIR/bases``."""
    root = bases_dir(data_dir)
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] if root.is_dir() else []
    if not found:
        raise BaseModelError(
            f"this deployment has no base model yet ({root} is empty): the first region needs --base MODEL_DIR "
            "(a model made by `disposisi train`)"
        )
    newest = max(found, key=lambda p: (p.stat().st_mtime_ns, p.name))
    return newest.name, newest
