"""Maintainers' helper: re-extract the desk's messages and merge them into the English catalogue.

``python -m service.desk.update_catalogue`` (Babel's extractor; new strings get an empty English
translation to fill in). Not needed at run time: the app compiles the .po itself (i18n.py).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
PO = HERE / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "-F",
                str(HERE / "babel.cfg"),
                "-k",
                "_l",
                "--no-location",
                "-o",
                str(pot),
                str(HERE),
                str(HERE.parent / "scope.py"),  # the desk's refusals are worded where every route's rule is
            ],
            check=True,
            cwd=HERE,
        )
        with pot.open("rb") as f:
            template = read_po(f)
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    catalog.update(template, no_fuzzy_matching=True)
    with PO.open("wb") as f:
        write_po(f, catalog, omit_header=False, no_location=True, sort_output=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{PO}: {len(catalog)} messages, {len(missing)} without an English translation")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
