"""Fixtures for the model test suite (tests/model).

One real-data model is trained per session, through the real console script on the
official LAPOR! .xlsx export (the same 580 complaints as the shared CSV). The CLI tests
check that run; the behaviour tests load the model it wrote, so the slow training happens
once, not twice.
"""

from __future__ import annotations

import shutil

import pytest
from model_helpers import LAPOR_XLSX, run_cli


@pytest.fixture(scope="session")
def lapor_xlsx_training(shared_data, tmp_path_factory):
    """`disposisi train --data <LAPOR .xlsx export> --out DIR`: (completed process, model dir)."""
    assert LAPOR_XLSX.is_file(), f"shared data missing: {LAPOR_XLSX}"
    out = tmp_path_factory.mktemp("lapor_xlsx_model") / "model"
    proc = run_cli("train", "--data", LAPOR_XLSX, "--out", out)
    return proc, out


@pytest.fixture(scope="session")
def lapor_model(lapor_xlsx_training):
    """The RoutingModel trained on the real LAPOR! data (loaded back from disk)."""
    from routing_model.artifact import persistence

    proc, out = lapor_xlsx_training
    assert proc.returncode == 0, f"training on the LAPOR export failed:\n{proc.stdout}\n{proc.stderr}"
    return persistence.load(out)


@pytest.fixture()
def model_copy(demo_model_dir, tmp_path):
    """A private copy of the session's demo model directory, free to damage."""
    out = tmp_path / "model"
    shutil.copytree(demo_model_dir, out)
    return out
