"""The managers' report: written from feedback, and rendered by a real headless Chromium."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from learning_helpers import PUTR, feedback_frame, run_cli

from service.desk.chromium import FLAGS, chromium_binary
from training.learning.feedback import read_feedback_frame
from training.learning.report import report_tables


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    path = base / "feedback.csv"
    feedback_frame().to_csv(path, index=False)
    out = base / "site"
    proc = run_cli("report", "--feedback", path, "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_report_figures(tmp_path):
    path = tmp_path / "fb.csv"
    frame = feedback_frame()
    frame.to_csv(path, index=False)
    tables = report_tables(read_feedback_frame(str(path)), "week")
    assert set(tables["acceptance"]["model_version"]) == {"v1", "v2"}
    # corrections: suggestions that put PUTR first and were changed
    assert tables["most_corrected"].iloc[0]["top"] == PUTR
    assert (tables["confusion"]["top"] == PUTR).any()
    flagged = frame["needs_review"].astype(bool)
    assert tables["review"]["size"].sum() == len(frame)
    assert (tables["review"]["mean"] * tables["review"]["size"]).sum() == pytest.approx(flagged.sum())


@pytest.mark.slow
def test_report_files(report_dir):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    for name in ("acceptance.png", "corrected.png", "review_rate.png"):
        assert (report_dir / name).stat().st_size > 5000
        assert f'src="{name}"' in page
    assert 'id="table-confusion"' in page and PUTR in page


def test_report_missing_columns_is_a_user_error(tmp_path):
    path = tmp_path / "fb.csv"
    feedback_frame().drop(columns=["action"]).to_csv(path, index=False)
    proc = run_cli("report", "--feedback", path, "--out", tmp_path / "site")
    assert proc.returncode == 2 and "missing column(s) action" in proc.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    import matplotlib.image as mpimg

    url = (report_dir / "index.html").resolve().as_uri()
    shot = tmp_path / "report.png"
    common = [chromium_binary(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,1600", url], capture_output=True, text=True, timeout=120
    )
    assert shot.is_file(), proc.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    flat = pixels[..., :3].reshape(-1, 3)
    assert np.ptp(flat, axis=0).max() > 0.5  # not all one colour
    assert len(np.unique((flat[::97] * 255).astype(int), axis=0)) > 20

    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    imgs = re.findall(r'<img[^>]+id="chart-(\w+)"', dom.stdout)
    assert imgs == ["acceptance", "corrected", "review"]
    assert '<table id="table-confusion">' in dom.stdout and "<td>" in dom.stdout
