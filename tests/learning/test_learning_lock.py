"""promote and rollback take the models directory's lock: concurrent calls each happen or fail clearly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from learning_helpers import DISPOSISI, ROOT, run_cli

from routing_model.artifact.persistence import read_card, write_card
from routing_model.artifact.store import current_model_dir

pytestmark = pytest.mark.slow

BUSY = "another promotion is in progress"
HOLD_LOCK = """
import sys, time
from pathlib import Path
from routing_model.artifact.store import switch_lock
with switch_lock(sys.argv[1]):
    Path(sys.argv[2]).write_text("held")
    while not Path(sys.argv[3]).exists():
        time.sleep(0.05)
"""


def _two_models(tmp_path, base_model_dir):
    """A models directory with `current` and `previous` (base, then a forced copy under another version)."""
    models = tmp_path / "models"
    other = tmp_path / "other"
    shutil.copytree(base_model_dir, other)
    card = read_card(other)
    card["version"] = "20990101T000000Z-other"
    write_card(other, card)
    assert run_cli("promote", base_model_dir, "--models-dir", models).returncode == 0
    proc = run_cli("promote", other, "--models-dir", models, "--force", "--reason", "lock test")
    assert proc.returncode == 0, proc.stderr
    return models, read_card(base_model_dir)["version"], card["version"], other


def _log(models) -> list[dict]:
    return [json.loads(line) for line in (models / "promotions.jsonl").read_text().splitlines()]


def test_promote_and_rollback_fail_clearly_while_another_holds_the_lock(tmp_path, base_model_dir):
    models, base_version, other_version, other = _two_models(tmp_path, base_model_dir)
    held, release = tmp_path / "held", tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(models), str(held), str(release)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while not held.exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the lock holder did not start"
            time.sleep(0.05)
        n_log = len(_log(models))
        for args in (
            ("rollback", "--models-dir", models),
            ("promote", base_model_dir, "--models-dir", models, "--force", "--reason", "x"),
        ):
            proc = run_cli(*args)
            assert proc.returncode == 2, proc.stdout + proc.stderr
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and BUSY in lines[0] and "Traceback" not in proc.stderr
        assert current_model_dir(models).name == other_version and len(_log(models)) == n_log  # nothing happened
    finally:
        release.write_text("go")
        holder.wait(timeout=30)
    assert run_cli("rollback", "--models-dir", models).returncode == 0  # the lock went with its process
    assert current_model_dir(models).name == base_version


def test_concurrent_rollbacks_each_happen_or_fail_clearly(tmp_path, base_model_dir):
    models, base_version, other_version, _ = _two_models(tmp_path, base_model_dir)
    n_log = len(_log(models))
    procs = [
        subprocess.Popen(
            [str(DISPOSISI), "rollback", "--models-dir", str(models), "--by", f"admin{i}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    done = [rc for rc, _ in results if rc == 0]
    assert all(rc == 0 or (rc == 2 and BUSY in err and "Traceback" not in err) for rc, err in results), results
    assert done, "at least one rollback must happen"
    rollbacks = _log(models)[n_log:]
    assert len(rollbacks) == len(done) and all(e["event"] == "rollback" for e in rollbacks)  # no switch lost
    # each rollback swapped current and previous: the state follows from how many happened
    expect_current, expect_previous = (base_version, other_version) if len(done) % 2 else (other_version, base_version)
    assert current_model_dir(models).name == expect_current
    assert (models / "previous").resolve().name == expect_previous
    for entry, (cur, prev) in zip(rollbacks, [(base_version, other_version), (other_version, base_version)] * 3):
        assert (entry["version"], entry["previous"]) == (cur, prev)
