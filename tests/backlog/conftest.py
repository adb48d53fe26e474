"""Fixtures for the backlog tests; the session `demo_model_dir` comes from tests/conftest.py."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from backlog_helpers import (  # noqa: F401 - fixtures below and older imports
    DISPOSISI,
    KAI_CSV,
    LAPOR_CSV,
    LAPOR_XLSX,
    ROOT,
    SHARED,
    read_csv_rows,
    run_cli,
    shared_texts,
)


@pytest.fixture(scope="session")
def backlog_csv(tmp_path_factory, shared_data) -> Path:
    """4,000 real complaints and tweets (LAPOR + KAI121) plus a few bad rows, as a UTF-8 CSV."""
    texts = shared_texts()
    path = tmp_path_factory.mktemp("backlog") / "backlog.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "source", "text"])
        for i in range(4000):
            text = texts[(i * 7919) % len(texts)]
            if i % 997 == 5:
                text = "   "  # empty text: must land in the reject file
            w.writerow([f"B-{i:05d}", "lapor" if i % 3 else "kai", text])
    return path


@pytest.fixture(scope="session")
def model_dir(request) -> Path:
    """The session demo model (tests/conftest.py); BACKLOG_TEST_MODEL_DIR reuses an already trained one."""
    env = os.environ.get("BACKLOG_TEST_MODEL_DIR")
    return Path(env) if env else request.getfixturevalue("demo_model_dir")
