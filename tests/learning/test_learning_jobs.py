"""The learn job end to end: `disposisi learn` retrains from the region's decisions, the gate decides, a pass
promotes; kill -9 mid-training or mid-promotion leaves the champion serving and the job rerunnable; a region
removed while its job runs promotes nothing.

The champion is the learning suite's small model (demo complaints before 2023-10); the admins' decisions are
the demo complaints from 2023-10 on, which it never saw, so the gate can compare fairly.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from clock_helpers import TEST_NOW
from learning_helpers import REGISTRY_CSV, demo, deployment_env, job_rows, kill_at_stage, run_deployment

from routing_model.artifact import persistence
from routing_model.artifact.store import current_model_dir
from routing_model.io.feedback_schema import feedback
from service.clock import Clock
from service.db import default_sqlite_url, regions, upgrade
from service.job_runner import JobContext, execute_job
from service.jobs import INTERRUPTED, JobStore
from service.learn_job import CANDIDATES, run_learn

pytestmark = pytest.mark.slow

GONE = "Dinas Yang Sudah Dibubarkan Kab. Bandung"  # an agency the region no longer has
BANDUNG = "kabupaten-bandung"


def _decisions(url: str, region: str, clock: Clock, gone: int = 3) -> int:
    """The demo complaints from 2023-10 on, accepted by admins of ``region`` (plus ``gone`` naming GONE)."""
    rows = demo()
    rows = rows[rows["date"] >= "2023-10-01"]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for i, r in enumerate(rows.itertuples()):
            agency = GONE if i < gone else r.agency
            conn.execute(
                feedback.insert().values(
                    idempotency_key=f"{region}-{i}",
                    complaint_id=r.id,
                    text=r.text,
                    text_sha256="0" * 64,
                    confidential=False,
                    suggested=[r.agency],
                    chosen_agency=agency,
                    action="accepted" if i % 4 else "corrected",
                    admin="admin",
                    model_version="v1",
                    created_at=clock.now(),
                    region_slug=region,
                )
            )
    engine.dispose()
    return len(rows)


@pytest.fixture
def single(tmp_path, base_model_dir):
    """A single-region deployment: DATA_DIR with the database, MODELS_DIR with the champion current."""
    var, models = tmp_path / "var", tmp_path / "models"
    url = default_sqlite_url(var)
    upgrade(url)
    assert run_deployment("promote", base_model_dir, "--models-dir", models).returncode == 0
    n = _decisions(url, "", Clock.starting_at(TEST_NOW))
    return var, models, url, n


def test_learn_passes_promotes_and_a_second_run_is_refused_with_its_reason(single):
    var, models, url, n = single
    champion = current_model_dir(models)
    first = run_deployment("learn", "--models-dir", models, var=var)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "PASSED: the challenger is now current" in first.stdout
    assert "top1: current" in first.stdout and "P(worse)=" in first.stdout
    assert "skipped: 3 naming agencies the region no longer has" in first.stdout
    new = current_model_dir(models)
    assert new != champion and persistence.load_served(new).version == new.name  # the new model serves
    (job,) = job_rows(url)
    assert job["state"] == "passed" and job["requested_by"] == "disposisi learn"
    assert job["figures"]["decisions_used"] == n - 3 and job["figures"]["skipped_unknown_agency"] == 3
    assert job["figures"]["bootstrap"]["top1"]["n"] >= 30  # judged on rows neither model saw
    assert not (models / CANDIDATES).exists() and (models / ".training-data" / f"job-{job['id']}.csv").is_file()

    second = run_deployment(
        "learn", "--models-dir", models, var=var
    )  # the same decisions again: the champion saw them all
    assert second.returncode == 0, second.stdout + second.stderr
    assert "REFUSED: the champion stays current" in second.stdout and "reason: cannot compare" in second.stdout
    assert current_model_dir(models) == new
    assert [j["state"] for j in job_rows(url)] == ["passed", "refused"]
    assert not (models / ".training-data" / "job-2.csv").exists()  # a refused challenger leaves nothing behind

    listed = run_deployment("jobs", var=var)
    assert listed.returncode == 0 and "passed" in listed.stdout and "refused" in listed.stdout
    bad = run_deployment("learn", "--region", "Bandung", var=var)  # ambiguous: Kabupaten or Kota
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def _rows_if_any(url: str) -> list[dict]:
    """The jobs rows, once `disposisi learn` has created the database."""
    return job_rows(url) if Path(url.removeprefix("sqlite:///")).exists() else []


@pytest.mark.parametrize("stage", ["training", "promoting"])
def test_kill_9_leaves_the_champion_serving_and_the_job_rerunnable(single, stage):
    var, models, url, _ = single
    champion = current_model_dir(models)
    kill_at_stage(["learn", "--models-dir", models], deployment_env(var), lambda: _rows_if_any(url), stage)
    (killed,) = [r for r in job_rows(url) if r["state"] == "running"]
    # whatever was half-written, `current` names a complete model: the champion, or the finished new one
    serving = current_model_dir(models)
    assert persistence.load_served(serving).version == serving.name
    if stage == "training":
        assert serving == champion
    store = JobStore(url, Clock.starting_at(TEST_NOW))
    try:
        assert store.get(killed["id"])["state"] == "running"  # until someone looks
        listed = run_deployment("jobs", var=var)  # any command that opens the jobs recovers them
        assert listed.returncode == 0 and "failed" in listed.stdout and INTERRUPTED in listed.stdout
        assert store.get(killed["id"])["reason"] == INTERRUPTED
    finally:
        store.close()
    again = run_deployment("learn", "--models-dir", models, var=var)
    assert again.returncode == 0, again.stdout + again.stderr
    assert ("PASSED" in again.stdout) == (serving == champion)  # a promotion that finished is not repeated
    assert not (models / CANDIDATES).exists()  # what the killed job left was cleared


def _bandung(var: Path, champion_dir: Path) -> tuple[str, Path, Clock]:
    """DATA_DIR with Kabupaten Bandung set up (registry, models with ``champion_dir`` current, an active row)
    and its admins' decisions; the deployment's own region has decisions too, never read for Bandung."""
    url = default_sqlite_url(var)
    upgrade(url)
    clock = Clock.starting_at(TEST_NOW)
    region_dir = var / "regions" / BANDUNG
    region_dir.mkdir(parents=True)
    shutil.copy(REGISTRY_CSV, region_dir / "registry.csv")
    promoted = run_deployment(
        "promote", champion_dir, "--models-dir", region_dir / "models", "--registry", REGISTRY_CSV
    )
    assert promoted.returncode == 0, promoted.stderr
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            regions.insert().values(
                slug=BANDUNG, name="Kabupaten Bandung", status="active", created_at=clock.now(), updated_at=clock.now()
            )
        )
    engine.dispose()
    _decisions(url, BANDUNG, clock)
    _decisions(url, "", clock, gone=0)
    return url, region_dir / "models", clock


def test_a_region_adapted_from_a_base_learns_by_adapting_again_with_its_decisions(tmp_path, base_model_dir):
    adapted = tmp_path / "adapted"
    made = run_deployment("adapt", "--model", base_model_dir, "--registry", REGISTRY_CSV, "--out", adapted)
    assert made.returncode == 0, made.stderr
    var = tmp_path / "var"
    url, models, _ = _bandung(var, adapted)
    champion = current_model_dir(models)
    done = run_deployment("learn", "--region", "Kabupaten Bandung", var=var)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout and "skipped: 3 naming agencies" in done.stdout
    new = current_model_dir(models)
    card = persistence.read_card(new)
    assert new != champion and card["base_model"]["path"] == str(base_model_dir)  # still on the same base
    assert card["training_data"]["sources"] == {"feedback": card["training_data"]["rows"]}  # Bandung's only
    assert persistence.load_served(new).version == new.name


def test_a_region_removed_while_its_job_runs_promotes_nothing(tmp_path, base_model_dir):
    var = tmp_path / "var"
    url, models, clock = _bandung(var, base_model_dir)
    region_dir = models.parent
    champion = current_model_dir(models)
    engine = sa.create_engine(url)

    def remove_at_gate(context, job, report):
        def watch(progress):
            report(progress)
            if progress.get("stage") == "gate":
                with engine.begin() as conn:
                    conn.execute(regions.update().where(regions.c.slug == BANDUNG).values(status="removed"))

        return run_learn(context, job, watch)

    store = JobStore(url, clock)
    try:
        job = store.enqueue(BANDUNG, "learn")
        outcome = execute_job(JobContext(url, str(var), clock=clock), job["id"], remove_at_gate)
        assert outcome.state == "failed" and "was removed while its job ran; nothing was promoted" in outcome.reason
        assert store.get(job["id"])["state"] == "failed"
        assert current_model_dir(region_dir / "models") == champion
        assert not (region_dir / "models" / CANDIDATES).exists()
        # removed before it starts: a clear one-line refusal
        refused = run_deployment("learn", "--region", "Kabupaten Bandung", var=var)
        assert refused.returncode == 2 and "was removed" in refused.stderr
    finally:
        store.close()
        engine.dispose()


def test_serve_schedules_each_region_once_in_the_master_and_workers_follow_the_promotion(tmp_path, base_model_dir):
    import json
    import urllib.request

    from routing_model.artifact.persistence import read_card, write_card
    from service.launch import ServeProcess

    var, models = tmp_path / "var", tmp_path / "models"
    url = default_sqlite_url(var)
    upgrade(url)
    assert run_deployment("promote", base_model_dir, "--models-dir", models).returncode == 0
    champion = current_model_dir(models)
    clock = Clock.starting_at(TEST_NOW)
    card = read_card(champion)
    card["created_at"] = (clock.now() - __import__("datetime").timedelta(days=1)).isoformat(timespec="seconds")
    write_card(champion, card)  # trained the day before the tests' day: today's decisions are new
    _decisions(url, "", clock)
    env = {
        "DISPOSISI_DATA_DIR": str(var),
        "DISPOSISI_PROGRESS": "0",
        "DISPOSISI_CLOCK_START": TEST_NOW,
        "DISPOSISI_LEARN_NIGHTLY_AT": "23:59",  # only the decisions' threshold fires
        "DISPOSISI_LEARN_AFTER_DECISIONS": "20",
        "DISPOSISI_LEARN_CHECK_SECONDS": "0.5",
    }
    with ServeProcess(["--models-dir", str(models), "--workers", "2"], tmp_path / "serve.log", env) as server:
        server.wait_ready()
        deadline = time.monotonic() + 600
        while not any(j["state"] in ("passed", "refused", "failed") for j in job_rows(url)):
            assert time.monotonic() < deadline and server.proc.poll() is None, server.log()
            time.sleep(0.5)
        time.sleep(2)  # a second scheduler (a worker's) would have asked again by now
        rows = job_rows(url)
        assert len(rows) == 1, rows
        (job,) = rows
        assert job["state"] == "passed" and job["requested_by"] == "schedule:decisions", job
        assert job["worker"].endswith(f":{server.proc.pid}")  # the gunicorn master ran it, no worker did
        new = current_model_dir(models)
        assert new != champion
        versions = set()
        while len(versions) < 6 and time.monotonic() < deadline:  # both workers reload the promoted model
            with urllib.request.urlopen(server.base + "/readyz", timeout=10) as answer:
                body = json.load(answer)
            versions.add((body["worker_pid"], body["model_version"]))
            if {v for _, v in versions} == {new.name} or len(versions) > 3:
                break
            time.sleep(0.3)
        assert any(v == new.name for _, v in versions), versions
