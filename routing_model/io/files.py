"""Writing a file so that no reader ever sees it half-written: one way, for registries, base and head arrays."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: str | Path, body: str | bytes) -> str:
    """Write ``body`` (text as UTF-8, newlines kept as given) to a temporary file beside ``path``, then rename it
    over ``path``; the sha256 of the bytes written. A failure leaves ``path`` as it was and no temporary file."""
    path = Path(path)
    data = body.encode("utf-8") if isinstance(body, str) else body
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()
