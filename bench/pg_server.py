"""A throw-away PostgreSQL server for a benchmark: initdb in a directory, started on a loopback port, stopped after.

As the test suite's fixture does (``tests/service/test_service_store.py``), it runs the server as the
``postgres`` user when started as root. A kept directory (``keep=True``) is reused by the next run, so a
2,000,000-row database is loaded once and measured many times.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

from service.launch import free_port

# Sized for the 2-core, 24 GiB machine shared with other work; durability off: this is a benchmark's copy
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "1GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "4GB",
    "max_wal_size": "8GB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_parallel_workers_per_gather": "1",
    "jit": "off",
}


def _bindir() -> Path:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise SystemExit("no PostgreSQL under /usr/lib/postgresql: run scripts/system-packages as root")
    return Path(found[-1]).parent


@contextmanager
def postgres(base: Path, keep: bool = False) -> Iterator[str]:
    """A database URL of a server whose files live in ``base`` (created, or reused when kept before)."""
    bindir, as_user = _bindir(), []
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # postgres refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
    data, sock, port = base / "data", base / "sock", free_port()

    def run(*cmd: object) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *map(str, cmd)], capture_output=True, text=True, timeout=600)

    run("mkdir", "-p", sock)
    if not (data / "PG_VERSION").is_file():
        r = run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        if r.returncode:
            raise SystemExit(f"initdb failed: {r.stderr.strip()[-500:]}")
    opts = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
    r = run(bindir / "pg_ctl", "-D", data, "-l", base / "server.log", "-w", "-t", "120", "start", "-o",
            f"{opts} -p {port} -c unix_socket_directories={sock}")  # fmt: skip
    if r.returncode:
        raise SystemExit(f"pg_ctl start failed: {r.stderr.strip()[-500:]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
