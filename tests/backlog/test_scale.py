"""Parallel, resumable and Dask runs: real `disposisi classify` subprocesses on real complaint texts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from backlog_helpers import DISPOSISI, ROOT, read_csv_rows, run_cli

pytestmark = pytest.mark.slow


def wait_group_gone(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not live_members(pgid):
            return True
        time.sleep(0.2)
    return False


def live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (an orphan's zombie waits for its reaper)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


def classify_args(model_dir, inp, out, *extra):
    return ["classify", "--model", model_dir, "--input", inp, "--output", out, "--quiet", *extra]


@pytest.fixture(scope="module")
def reference(model_dir, backlog_csv, tmp_path_factory):
    """An uninterrupted single-process run: the bytes every other run must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "ref.csv"
    proc = run_cli(*classify_args(model_dir, backlog_csv, out, "--jobs", "1", "--chunk-size", "100"))
    assert proc.returncode == 0, proc.stderr
    return out


def test_reference_accounts_for_every_row(reference, backlog_csv):
    rows = read_csv_rows(reference)
    rejects = read_csv_rows(str(reference) + ".rejects.csv")
    assert len(rows) + len(rejects) == 4000
    assert {r["reason"] for r in rejects} == {"empty_text"} and len(rejects) == 5
    assert [int(r["id"][2:]) for r in rows] == sorted(int(r["id"][2:]) for r in rows)  # input order
    assert not os.path.exists(str(reference) + ".journal.json")


def test_two_workers_give_identical_bytes(model_dir, backlog_csv, reference, tmp_path):
    out = tmp_path / "par.csv"
    proc = run_cli(*classify_args(model_dir, backlog_csv, out, "--jobs", "2", "--chunk-size", "100"))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert (tmp_path / "par.csv.rejects.csv").read_bytes() == open(str(reference) + ".rejects.csv", "rb").read()


def test_kill_9_then_resume_equals_uninterrupted(model_dir, backlog_csv, reference, tmp_path):
    out = tmp_path / "killed.csv"
    journal = tmp_path / "killed.csv.journal.json"
    args = [DISPOSISI, *map(str, classify_args(model_dir, backlog_csv, out, "--jobs", "2", "--chunk-size", "100"))]
    for attempt, kill_after_chunks in enumerate((5, 15)):
        cmd = args + (["--resume"] if attempt else [])
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    done = json.loads(journal.read_text())["chunks"]
                except (OSError, ValueError, KeyError):
                    done = 0
                if done >= kill_after_chunks:
                    break
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            time.sleep(0.13 * (attempt + 1))  # land somewhere inside the next chunk's write
            proc.send_signal(signal.SIGKILL)  # kill -9 of the job itself; its orphaned workers must exit
            proc.wait(timeout=30)
            assert wait_group_gone(proc.pid, 30), "worker processes outlived the killed job"
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the orphaned worker processes of this run
            except ProcessLookupError:
                pass
        assert proc.returncode == -signal.SIGKILL
        assert journal.exists()
        assert not out.exists(), "a killed job must not leave a file under the output's name"
        partial = out.with_name(out.name + ".partial")
        assert 0 < partial.stat().st_size < reference.stat().st_size
    proc = run_cli(*classify_args(model_dir, backlog_csv, out, "--jobs", "2", "--chunk-size", "100"), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert (tmp_path / "killed.csv.rejects.csv").read_bytes() == open(str(reference) + ".rejects.csv", "rb").read()
    assert not journal.exists()
    assert not list(tmp_path.glob("*.partial"))


def test_resume_with_other_options_is_refused(model_dir, backlog_csv, tmp_path):
    from service.batch.journal import write_journal

    out = tmp_path / "o.csv"
    (tmp_path / "o.csv.partial").write_text("x")
    (tmp_path / "o.csv.rejects.csv.partial").write_text("x")
    write_journal(tmp_path / "o.csv.journal.json", {"signature": "something else", "chunks": 1})
    proc = run_cli(*classify_args(model_dir, backlog_csv, out, "--jobs", "1"), "--resume")
    assert proc.returncode == 2 and "cannot resume" in proc.stderr


def test_dask_local_cluster_matches_local_engine(model_dir, backlog_csv, reference, tmp_path):
    # the first 600 rows keep this test short; the local engine is run on the same slice
    small = tmp_path / "small.csv"
    with open(backlog_csv, encoding="utf-8", newline="") as fh:
        small.write_text("".join(line for _, line in zip(range(601), fh)), encoding="utf-8", newline="")
    local, dask_out = tmp_path / "local.csv", tmp_path / "dask.csv"
    proc = run_cli(*classify_args(model_dir, small, local, "--jobs", "1", "--chunk-size", "100"))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(*classify_args(model_dir, small, dask_out, "--engine", "dask", "--jobs", "2", "--chunk-size", "100"))
    assert proc.returncode == 0, proc.stderr
    assert dask_out.read_bytes() == local.read_bytes()
    assert len(read_csv_rows(dask_out)) == 600 - 1  # row 5 (0-based) has an empty text
