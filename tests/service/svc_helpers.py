"""Helpers shared by the service tests (constants, a real `disposisi serve` process, free ports)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ADMIN_TOKEN = "test-admin-token"
HASHED_TOKEN = "hashed-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WORKERS = 2  # real servers in tests run two worker processes, whatever the machine's cores


def copy_model(src: Path, dst: Path, version: str | None = None) -> Path:
    """A copy of a model directory, optionally with another version in its card (the model file is unchanged)."""
    shutil.copytree(src, dst)
    if version:
        from routing_model.persistence import read_card, write_card

        card = read_card(dst)
        card["version"] = version
        write_card(dst, card)  # re-sealed: a card edited any other way is refused
    return dst


def two_versions(demo_model_dir: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A models directory holding the demo model as "version-a" (current) and "version-b"."""
    from routing_model.model_store import point

    models = tmp_path / "models"
    models.mkdir()
    a = copy_model(demo_model_dir, models / "a", version="version-a")
    b = copy_model(demo_model_dir, models / "b", version="version-b")
    point(models, "current", a)
    return models, a, b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def disposisi_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "disposisi"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "commands.main"]


class Server:
    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [*disposisi_cmd(), "serve", *args, "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(WORKERS)],
            env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # bound, workers still loading
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
