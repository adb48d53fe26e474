"""The tree passes ruff's lint rules and is formatted as ruff formats it (settings: [tool.ruff] in pyproject.toml).

`make lint` runs the same two checks; `make format` applies ruff's fixes and formats the tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).parent / "ruff"  # the venv's ruff, the version pyproject.toml pins


# one line per finding (`make lint` shows the full diagnostics and diffs)
@pytest.mark.parametrize(
    "args",
    [["check", "--output-format", "concise", "."], ["format", "--check", "--output-format", "concise", "."]],
    ids=["check", "format"],
)
def test_ruff(args):
    assert RUFF.is_file(), f"{RUFF} is missing: `make install` installs the dev extras"
    proc = subprocess.run([str(RUFF), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"ruff {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
