"""Helpers shared by the service tests (constants, a real `disposisi serve` process, free ports)."""

from __future__ import annotations

import shutil
from pathlib import Path

from service.launch import ServeProcess, disposisi_cmd, free_port  # noqa: F401  (the tests import them from here)

ADMIN_TOKEN = "test-admin-token"
HASHED_TOKEN = "hashed-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WORKERS = 2  # real servers in tests run two worker processes, whatever the machine's cores


def copy_model(src: Path, dst: Path, version: str | None = None) -> Path:
    """A copy of a model directory, optionally with another version in its card (the model file is unchanged)."""
    shutil.copytree(src, dst)
    if version:
        from routing_model.artifact.persistence import read_card, write_card

        card = read_card(dst)
        card["version"] = version
        write_card(dst, card)  # re-sealed: a card edited any other way is refused
    return dst


def two_versions(demo_model_dir: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A models directory holding the demo model as "version-a" (current) and "version-b"."""
    from routing_model.artifact.store import point

    models = tmp_path / "models"
    models.mkdir()
    a = copy_model(demo_model_dir, models / "a", version="version-a")
    b = copy_model(demo_model_dir, models / "b", version="version-b")
    point(models, "current", a)
    return models, a, b


class Server(ServeProcess):
    """A real `disposisi serve` with the suite's worker count; ``wait_ready()`` before use, ``stop()`` after."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        super().__init__([*args, "--workers", str(WORKERS)], log_path, env)
