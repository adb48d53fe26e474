"""An installable package: the wheel holds every resource, and installed from the wheel alone
(no source tree, run from another directory) `disposisi --version` and `disposisi train` work."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "disposisi"  # an in-tree build would leave build/ in the repo
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "models", "build", "dist", "var", "*.egg-info", "__pycache__", ".pytest_cache"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return next(out.glob("disposisi-*.whl"))


@pytest.mark.slow
def test_wheel_holds_every_resource(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        p for p in (ROOT / "routing_model" / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ]
    expected += [ROOT / "service" / "openapi.json"]
    expected += [p for p in (ROOT / "service" / "desk").rglob("*") if p.suffix in (".html", ".js", ".css", ".po")]
    expected += [p for p in (ROOT / "service" / "migrations").rglob("*.py") if "__pycache__" not in p.parts]
    missing = [str(p.relative_to(ROOT)) for p in expected if str(p.relative_to(ROOT)) not in names]
    assert len(expected) > 5 and not missing, missing
    assert any(n.endswith("entry_points.txt") for n in names)


@pytest.mark.slow
def test_wheel_installs_and_trains_from_another_directory():
    proc = subprocess.run(
        [str(ROOT / ".ci" / "check_wheel")],
        capture_output=True,
        text=True,
        timeout=900,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "TMPDIR": "/tmp"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "check_wheel: OK" in proc.stdout and "disposisi " in proc.stdout
