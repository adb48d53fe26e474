"""The model card as ``GET /v1/model`` shows it to anyone: no file path of the server.

The card on disk records where the training data, the registry and the parent model live
(the operator needs them for retraining); the unauthenticated endpoint must not tell a client
where files are. Keys named ``path`` are dropped, path-like keys become their file name, and
string values that name a path or a URL are dropped.
"""

from __future__ import annotations

import re
from pathlib import PurePath, PureWindowsPath

_ABSOLUTE = re.compile(r"^(?:/|~|[A-Za-z]:[\\/]|\\\\)")
# a value naming a path anywhere: "/srv/…", "C:\…", "sqlite:///…", "see /home/…"
_HOLDS_PATH = re.compile(r"(?:^|[\s'\"(=])(?:/|~/|[A-Za-z]:[\\/]|\\\\)|://")
_MAX_DEPTH = 32


def _looks_like_path(value: str) -> bool:
    return bool(_ABSOLUTE.match(value)) or "/" in value or "\\" in value


def _name(value: str) -> str:
    return PureWindowsPath(value).name if "\\" in value else PurePath(value).name


def public_card(card: dict) -> dict:
    """A copy of ``card`` without file paths."""
    return _clean(card, 0)


def _clean(value, depth: int):
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "path" or (isinstance(key, str) and key.endswith("_path")):
                continue
            if isinstance(key, str) and _looks_like_path(key):
                key = _name(key)
            out[key] = _clean(item, depth + 1)
        return out
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, str) and _HOLDS_PATH.search(value):
        return None
    return value
