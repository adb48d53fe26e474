"""Word lists shipped with the package: informal-spelling normalisation and stopwords.

They are read once at ``fit`` time and stored in the fitted preprocessor, so a saved model
keeps the exact lists it was trained with even if the files are later extended.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from routing_model.errors import DisposisiError

RESOURCES = resources.files("routing_model") / "resources"
DEFAULT_NORMALISATION = RESOURCES / "normalisasi.tsv"
DEFAULT_STOPWORDS = RESOURCES / "stopwords.txt"


class LexiconError(DisposisiError, ValueError):
    """A word list file is malformed; the message names the file and line."""


def _read_text(path) -> str:
    return Path(str(path)).read_text(encoding="utf-8")


def load_normalisation(path=DEFAULT_NORMALISATION) -> dict[str, tuple[str, ...]]:
    """informal token -> tuple of formal tokens ("yg" -> ("yang",), "pju" -> ("penerangan", "jalan", "umum"))."""
    rows = csv.reader(_read_text(path).splitlines(), delimiter="\t")
    header = next(rows, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["informal", "formal"]:
        raise LexiconError(f"{path}: first line must be 'informal<TAB>formal'")
    mapping: dict[str, tuple[str, ...]] = {}
    for lineno, row in enumerate(rows, start=2):
        if not row or not row[0].strip() or row[0].startswith("#"):
            continue
        if len(row) < 2 or not row[1].strip():
            raise LexiconError(f"{path}:{lineno}: expected 'informal<TAB>formal', got {row!r}")
        informal, formal = row[0].strip().lower(), tuple(row[1].strip().lower().split())
        if informal in mapping:
            raise LexiconError(f"{path}:{lineno}: '{informal}' is listed twice")
        mapping[informal] = formal
    return mapping


def load_stopwords(path=DEFAULT_STOPWORDS) -> frozenset[str]:
    words = (line.strip().lower() for line in _read_text(path).splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))
