"""Shared fixtures: the registry, the shared real data, and one demo model trained per session."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from clock_helpers import TEST_NOW

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
LAPOR_CSV = SHARED / "lapor" / "kab_bandung_2021_2023.csv"
LAPOR_XLSX = SHARED / "lapor" / "kab_bandung_2021_2023_laporan_ringkas.xlsx"
KAI_CSV = SHARED / "kai121" / "kai121_tweets.csv"
DEMO_CSV = ROOT / "data" / "demo" / "demo_complaints.csv"


@pytest.fixture(scope="session", autouse=True)
def service_clock():
    """Every app and every `disposisi serve` the suite starts reads its time from the test clock, never the machine's."""
    before = os.environ.get("DISPOSISI_CLOCK_START")
    os.environ["DISPOSISI_CLOCK_START"] = TEST_NOW
    yield TEST_NOW
    if before is None:
        os.environ.pop("DISPOSISI_CLOCK_START", None)
    else:
        os.environ["DISPOSISI_CLOCK_START"] = before


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data must be beside the repo (it is in CI); tests fail loudly if not."""
    assert LAPOR_CSV.is_file(), f"shared data missing: {LAPOR_CSV}"
    return SHARED


@pytest.fixture(scope="session")
def lapor_frame(shared_data) -> pd.DataFrame:
    return pd.read_csv(LAPOR_CSV, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def registry():
    from routing_model import Registry

    return Registry.load()


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory) -> Path:
    """A model trained on the bundled demo complaints, once per test session."""
    from training.train import train_and_save

    out = tmp_path_factory.mktemp("models") / "demo"
    train_and_save(DEMO_CSV, out)
    return out


@pytest.fixture(scope="session")
def demo_model(demo_model_dir):
    from routing_model.artifact import persistence

    return persistence.load(demo_model_dir)
