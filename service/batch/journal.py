"""Checkpoint journal: what is durably in the output, so a killed job can continue exactly there.

After each chunk the runner appends the chunk's bytes to the output and reject files, fsyncs them,
then replaces ``<output>.journal.json`` atomically (write temp, fsync, rename, fsync directory).
The journal records the committed byte length of both files and the number of chunks done. On
``--resume`` both files are truncated to those lengths (dropping a half-written chunk) and the
input is re-read, skipping the committed chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

JOURNAL_FORMAT = 1


def journal_path(output: Path) -> Path:
    return output.with_name(output.name + ".journal.json")


def partial_path(path: Path) -> Path:
    """Where a file is written until the job is complete (then renamed to ``path``)."""
    return path.with_name(path.name + ".partial")


def rejects_path(output: Path) -> Path:
    return output.with_name(output.name + ".rejects.csv")


def job_signature(**parts) -> str:
    """A hash of everything that changes the output bytes (input identity, model, options)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not supported on this platform
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_journal(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(dict(state, format=JOURNAL_FORMAT), fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_journal(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return None
    return state if state.get("format") == JOURNAL_FORMAT else None
