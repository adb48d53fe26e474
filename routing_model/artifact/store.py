"""A directory of model versions with an atomically switched ``current`` pointer.

Layout: ``MODELS_DIR/<version>/`` (each a model directory written by ``RoutingModel.save``)
and ``MODELS_DIR/current``, a symbolic link to one of them. Switching the link with
``os.replace`` is atomic, so a reader sees either the old or the new model, never neither.

A switch reads the pointers and then moves them; two switches at once could both read the
same state and one would be lost. ``switch_lock`` serialises them: an exclusive ``fcntl`` lock
on ``MODELS_DIR/.switch.lock``, taken without waiting, so a second promote or rollback fails at
once with a clear message instead of queueing behind a long one. The kernel releases the lock
when the process ends, however it ends: there is no stale lock to clean up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from routing_model.errors import DisposisiError

CURRENT = "current"
PREVIOUS = "previous"
LOCK_FILE = ".switch.lock"


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


class SwitchInProgress(ModelStoreError):
    """Another promote or rollback holds the models directory's lock."""


@contextlib.contextmanager
def switch_lock(models_dir: str | Path) -> Iterator[None]:
    """Hold the models directory's switch lock (creating the directory) or raise SwitchInProgress."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(models_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SwitchInProgress(
                f"another promotion is in progress in {models_dir} (promote or rollback holds {LOCK_FILE}); "
                "try again when it has finished"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
