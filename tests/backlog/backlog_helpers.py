"""Paths and helpers shared by the backlog tests (a uniquely named module: every test folder
has a conftest.py, and `from conftest import` would pick whichever was imported first)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
LAPOR_CSV = SHARED / "lapor" / "kab_bandung_2021_2023.csv"
LAPOR_XLSX = SHARED / "lapor" / "kab_bandung_2021_2023_laporan_ringkas.xlsx"
KAI_CSV = SHARED / "kai121" / "kai121_tweets.csv"
DISPOSISI = str(Path(sys.executable).parent / "disposisi")  # the real console script


def run_cli(*args, timeout=600, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [DISPOSISI, *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, **kw
    )


def read_csv_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def shared_texts() -> list[str]:
    texts = []
    for path in (LAPOR_CSV, KAI_CSV):
        with open(path, newline="", encoding="utf-8") as fh:
            texts += [r["text"] for r in csv.DictReader(fh) if r["text"].strip()]
    return texts
