"""Start `disposisi serve` as its own process on a free loopback port and wait until it is ready.

The desk demo, the service bench and the service tests all need a real server (gunicorn and
its workers, not the app in-process); starting it one way means one readiness rule (``/readyz``
answers 200: the model is loaded and the database reachable), one place that says why a server
did not come up (its exit code and the tail of its log), and one way to stop it.

    with ServeProcess(["--model", "models/demo"], Path("server.log")) as server:
        server.wait_ready()
        requests.get(server.base + "/v1/...")
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from routing_model.errors import DisposisiError

HOST = "127.0.0.1"
READY_PATH = "/readyz"
TAIL_LINES = 40


class ServerStartError(DisposisiError, RuntimeError):
    """`disposisi serve` exited or did not become ready in time; the message ends with its log's tail."""


def free_port() -> int:
    """A loopback port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def disposisi_cmd() -> list[str]:
    """The installed console script beside this interpreter, else the same entry point via ``-m``."""
    exe = Path(sys.executable).parent / "disposisi"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "service.cli.main"]


def _answers_ready(port: int) -> bool:
    """True once ``/readyz`` answers 200; a refused or dropped connection means still starting."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", READY_PATH)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):  # not bound yet, or workers still loading
        return False
    finally:
        conn.close()


class ServeProcess:
    """`disposisi serve ARGS --host 127.0.0.1 --port FREE`, stdout and stderr into ``log_path``.

    Started on construction, not yet waited for: call ``wait_ready()``. ``env`` is added to this
    process's environment. As a context manager the server is stopped on leaving the block.
    """

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [*disposisi_cmd(), "serve", *args, "--host", HOST, "--port", str(self.port)],
                env={**os.environ, **(env or {})},
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except OSError:
            self._log.close()
            raise

    def wait_ready(self, timeout: float = 90) -> None:
        """Poll ``/readyz`` until it answers 200; ServerStartError if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._fail(f"exited with code {self.proc.returncode} before it was ready")
            if _answers_ready(self.port):
                return
            if time.monotonic() > deadline:
                self._fail(f"was not ready after {timeout:g} s")
            time.sleep(0.2)

    def _fail(self, what: str) -> None:
        tail = "\n".join(f"  {line}" for line in self.log().splitlines()[-TAIL_LINES:])
        raise ServerStartError(f"disposisi serve on port {self.port} {what}; its log {self.log_path} ends:\n{tail}")

    def log(self) -> str:
        """Everything the server wrote so far (stdout and stderr)."""
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15) -> None:
        """Terminate (gunicorn then stops its workers), kill if it does not end in ``timeout`` s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
