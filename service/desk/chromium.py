"""Render a page with headless Chromium (Debian's `chromium`): a screenshot, or the DOM after scripts.

``python -m service.desk.chromium PAGE.html SHOT.png`` (used by `make report-demo`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_binary() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        raise FileNotFoundError(
            "chromium is not installed: run `make test` as root, or scripts/system-packages, or apt-get install chromium"
        )
    return found


def _run(page, extra: list[str], timeout: float) -> subprocess.CompletedProcess:
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="disposisi-chromium-") as profile:
        return subprocess.run(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def screenshot(page, png, size: str = "1200,1600", timeout: float = 120) -> Path:
    png = Path(png).resolve()
    proc = _run(page, [f"--screenshot={png}", f"--window-size={size}"], timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot: {proc.stderr[-1000:]}")
    return png


def dump_dom(page, timeout: float = 120) -> str:
    proc = _run(page, ["--dump-dom"], timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium --dump-dom failed: {proc.stderr[-1000:]}")
    return proc.stdout


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m service.desk.chromium PAGE.html SHOT.png")
    print(f"screenshot written to {screenshot(sys.argv[1], sys.argv[2])}")
