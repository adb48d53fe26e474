"""From a whole model directory to one shared base and a region's head (``disposisi model split``), and the base's
training model that ``adapt`` makes new heads from.

A base written here keeps the full model it came from in ``training/`` (``persistence.save``): adapting a region
needs the fitted feature union, which the served arrays do not hold. Serving never reads it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from routing_model.artifact.bases import BASE_FILE, TRAINING_DIR, Bases, OpenBase, base_digest_of, write_base
from routing_model.artifact.cards import ModelLoadError
from routing_model.artifact.heads import write_head
from routing_model.artifact.persistence import load, save
from routing_model.model.routing import RoutingModel

# What a head's card keeps of the whole model's card it was split from (the rest is written anew).
KEPT_CARD_FIELDS = ("version", "created_at", "training_data", "training_seconds", "registry", "evaluation")


def write_base_into(model: RoutingModel, bases_root: str | Path) -> tuple[str, Path]:
    """Write ``model``'s base, with its training model, as ``bases_root/<digest>/`` (the deployment's layout),
    atomically; a base already there is kept. Returns (digest, directory)."""
    root = Path(bases_root)
    root.mkdir(parents=True, exist_ok=True)
    digest = base_digest_of(model)
    final = root / digest
    if (final / BASE_FILE).is_file():
        return digest, final
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".base-"))
    try:
        card = getattr(model, "card_", None) or {}
        save(model, tmp / TRAINING_DIR, {k: card[k] for k in KEPT_CARD_FIELDS if k in card})
        written = write_base(model, tmp)
        if written != digest:  # pragma: no cover - a base's digest depends on its fields alone
            raise ModelLoadError(f"base digest changed while writing ({digest[:12]}… -> {written[:12]}…)")
        os.chmod(tmp, 0o755)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return digest, final


def training_model(base: OpenBase) -> RoutingModel:
    """The full model ``base`` was written from (``training/``), loaded and checked once: what adapting starts
    from. Refused when it is not the model of this base (its base fields differ)."""
    if base.training is None:
        if not (base.path / TRAINING_DIR).is_dir():
            raise ModelLoadError(
                f"base {base.path} keeps no training model ({TRAINING_DIR}/): regions cannot be adapted from it"
            )
        model = load(base.path / TRAINING_DIR)
        if base_digest_of(model) != base.digest:
            raise ModelLoadError(f"base {base.path}: {TRAINING_DIR}/ holds another model than the base's")
        base.training = model
    return base.training


def open_for_adapt(base_dir: str | Path, opened: Bases | None = None) -> OpenBase:
    """A base directory, verified (by its own record: no head names it yet), for adapting regions from."""
    from routing_model.artifact.bases import canonical_digest, read_base_record

    digest = canonical_digest(read_base_record(Path(base_dir)))
    return (opened if opened is not None else Bases()).get(base_dir, digest)


def split_model(model_dir: str | Path, bases_root: str | Path, head_dir: str | Path) -> tuple[str, dict]:
    """Convert a whole model directory once into ``bases_root/<digest>/`` and a head in ``head_dir``; the model
    directory is left as it was. Returns (base digest, head card)."""
    model = load(model_dir)
    card = dict(model.card_ or {})
    digest, _ = write_base_into(model, bases_root)
    head_card = write_head(model, head_dir, digest, {k: card[k] for k in KEPT_CARD_FIELDS if k in card})
    return digest, head_card
