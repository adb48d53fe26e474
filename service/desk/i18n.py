"""Interface language: Indonesian first, English from gettext catalogues (Flask-Babel).

Only the ``.po`` files are in the repository. At start-up each catalogue is compiled with Babel's
own ``read_po``/``write_mo`` into a cache directory keyed by the ``.po`` content, so there is no
manual build step and no compiled file to forget to regenerate.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session

SOURCE = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("id", "en")
DEFAULT = "id"


def compiled_translations(source: Path = SOURCE) -> Path:
    """A directory with ``<lang>/LC_MESSAGES/messages.mo`` compiled from ``source``'s ``.po`` files."""
    pos = sorted(source.glob("*/LC_MESSAGES/messages.po"))
    key = hashlib.sha256(b"".join(p.read_bytes() for p in pos)).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"disposisi-translations-{key}"
    for po in pos:
        mo = out / po.relative_to(source).with_suffix(".mo")
        if mo.is_file():
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)  # atomic: worker processes may compile at the same time
    return out


def select_locale() -> str:
    """The language chosen in this session, else Indonesian (the desk's language), never the browser's guess."""
    lang = session.get("lang") if request else None
    return lang if lang in LANGUAGES else DEFAULT
