"""The jobs table as the learning loop uses it: one active job per region, claim-once, recovery after kill -9,
and the schedule (nightly once per night, and after enough decisions) on an injected clock."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from clock_helpers import TODAY
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

from routing_model.artifact.persistence import read_card, write_card
from routing_model.artifact.store import CURRENT, point
from routing_model.io.feedback_schema import feedback
from service.clock import Clock
from service.db import default_sqlite_url, regions, upgrade
from service.job_runner import JobContext, JobRunner, execute_job
from service.jobs import INTERRUPTED, JobError, JobOutcome, JobStore, this_worker
from service.learn_schedule import LearnSchedule, Scheduler, learn_regions

MORNING = f"{TODAY.isoformat()}T10:00:00+07:00"  # the tests' day, 10:00 WIB


def _store(url: str, clock: Clock | None = None) -> JobStore:
    upgrade(url)
    return JobStore(url, clock or Clock.starting_at(MORNING))


@pytest.fixture
def sqlite_url(tmp_path):
    return default_sqlite_url(tmp_path / "var")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_one_active_job_per_region_and_claim_once_under_two_threads(backend, sqlite_url, request):
    url = sqlite_url if backend == "sqlite" else request.getfixturevalue("postgres_url")
    store = _store(url)
    try:
        region = f"kabupaten-bandung-{backend}-{id(store)}"
        job = store.enqueue(region, "learn", requested_by="test")
        assert job["state"] == "queued" and job["region_slug"] == region
        with pytest.raises(JobError, match=rf"already has job {job['id']} \(learn, queued"):
            store.enqueue(region, "learn")
        assert store.enqueue(region, "adapt", existing_ok=True)["id"] == job["id"]  # the existing one, not a new one
        other = store.enqueue(region + "-x", "learn")  # another region is free
        assert other["id"] != job["id"]

        barrier, results = threading.Barrier(2), []

        def claim(worker):
            barrier.wait()
            results.append((worker, store.claim(job["id"], worker)))

        threads = [threading.Thread(target=claim, args=(f"host:{n}",)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [w for w, ok in results if ok]
        assert len(winners) == 1 and store.get(job["id"])["worker"] == winners[0]
        assert store.get(job["id"])["state"] == "running"
        with pytest.raises(JobError, match="running since"):  # still one active job: running counts too
            store.enqueue(region, "learn")

        assert store.finish(job["id"], JobOutcome("refused", {"n": 3}, "worse"))
        done = store.get(job["id"])
        assert (done["state"], done["figures"], done["reason"]) == ("refused", {"n": 3}, "worse")
        assert done["finished_at"] is not None and done["finished_at"].tzinfo is not None
        assert not store.finish(job["id"], JobOutcome("passed"))  # a finished job stays as it ended
        assert store.enqueue(region, "learn")["id"] > job["id"]  # the region is free again
        with pytest.raises(JobError, match="unknown job kind"):
            store.enqueue(region + "-y", "retrain")
    finally:
        store.close()


def test_recover_interrupted_fails_only_jobs_of_dead_workers_on_this_host(sqlite_url):
    store = _store(sqlite_url)
    host = this_worker().rpartition(":")[0]
    dead, alive, elsewhere = (store.enqueue(r, "learn") for r in ("a", "b", "c"))
    assert store.claim(dead["id"], f"{host}:{_dead_pid()}")
    assert store.claim(alive["id"], this_worker())
    assert store.claim(elsewhere["id"], "another-host.example:1")
    assert store.recover_interrupted() == [dead["id"]]
    job = store.get(dead["id"])
    assert (job["state"], job["reason"]) == ("failed", INTERRUPTED)
    assert store.get(alive["id"])["state"] == "running" and store.get(elsewhere["id"])["state"] == "running"
    assert store.enqueue("a", "learn")["state"] == "queued"  # rerunnable
    store.close()


def test_execute_job_records_outcome_failure_and_leaves_a_claimed_job_alone(sqlite_url):
    store = _store(sqlite_url)
    context = JobContext(sqlite_url, "/nonexistent", clock=store.clock)
    ok = store.enqueue("a", "learn")
    seen = []

    def handler(ctx, job, report):
        report({"stage": "training"})
        seen.append(store.get(job["id"])["progress"])
        return JobOutcome("passed", {"top1": 0.5}, "not worse")

    assert execute_job(context, ok["id"], handler) == JobOutcome("passed", {"top1": 0.5}, "not worse")
    assert seen == [{"stage": "training"}] and store.get(ok["id"])["state"] == "passed"
    assert execute_job(context, ok["id"], handler) is None  # not queued any more: nobody runs it twice

    def broken(ctx, job, report):
        raise ValueError("disk full\nsecond line")

    bad = store.enqueue("b", "learn")
    runner = JobRunner(context, {"learn": broken})
    outcome = runner.run(bad)
    runner.close(wait=True)
    assert outcome.state == "failed" and outcome.reason == "ValueError: disk full"
    assert store.get(bad["id"])["reason"] == "ValueError: disk full"
    with pytest.raises(JobError, match="no handler"):
        JobRunner(context, {}).submit(store.enqueue("c", "adapt"))
    store.close()


# -- the schedule --------------------------------------------------------------------------------------
class RecordingRunner(JobRunner):
    """A runner that records what the scheduler hands it (the jobs are finished by the test)."""

    def __init__(self, context):
        super().__init__(context, {"learn": lambda *a: JobOutcome("passed")})
        self.submitted: list[int] = []

    def submit(self, job):
        self.submitted.append(job["id"])


def _decide(url: str, region: str, at: datetime, n: int = 1, action: str = "accepted") -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        start = conn.execute(sa.select(sa.func.count()).select_from(feedback)).scalar()
        for i in range(n):
            conn.execute(
                feedback.insert().values(
                    idempotency_key=f"k{start + i}",
                    complaint_id=f"c{start + i}",
                    text="jalan rusak",
                    text_sha256="0" * 64,
                    confidential=False,
                    suggested=[],
                    chosen_agency="Dinas X",
                    action=action,
                    admin="admin",
                    model_version="v",
                    created_at=at,
                    region_slug=region,
                )
            )
    engine.dispose()


@pytest.fixture
def deployment(tmp_path, sqlite_url, demo_model_dir):
    """A models directory whose current model was trained two days before the tests' day, and a region row."""
    clock = Clock.starting_at(MORNING)
    store = _store(sqlite_url, clock)
    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(demo_model_dir, models / "v1")
    card = read_card(models / "v1")
    card["created_at"] = (clock.now() - timedelta(days=2)).isoformat(timespec="seconds")
    write_card(models / "v1", card)
    point(models, CURRENT, models / "v1")
    context = JobContext(sqlite_url, str(tmp_path / "var"), models_dir=str(models), clock=clock)
    yield store, context, clock
    store.close()


def _finish_all(store: JobStore, ids) -> None:
    for job_id in ids:
        assert store.claim(job_id) and store.finish(job_id, JobOutcome("refused", None, "test"))


def test_nightly_fires_once_per_night_when_there_are_new_decisions(deployment):
    store, context, clock = deployment
    runner = RecordingRunner(context)
    scheduler = Scheduler(store, runner, LearnSchedule(datetime.strptime("02:00", "%H:%M").time(), 50), clock)
    assert scheduler.tick() == []  # no decision yet: nothing to learn
    _decide(context.database_url, "", clock.now() - timedelta(hours=1))
    first = scheduler.tick()
    assert [(j["region_slug"], j["requested_by"]) for j in first] == [("", "schedule:nightly")]
    assert runner.submitted == [first[0]["id"]]
    assert scheduler.tick() == []  # active job: nothing more
    _finish_all(store, runner.submitted)
    clock.offset += timedelta(minutes=5)
    _decide(context.database_url, "", clock.now())
    assert scheduler.tick() == []  # same night: once only
    clock.offset += timedelta(days=1)  # the next morning
    second = scheduler.tick()
    assert [j["requested_by"] for j in second] == ["schedule:nightly"] and len(runner.submitted) == 2
    _finish_all(store, runner.submitted[1:])
    clock.offset += timedelta(days=1)
    assert scheduler.tick() == []  # a night without new decisions: nothing to learn


def test_enough_new_decisions_fire_before_the_night(deployment):
    store, context, clock = deployment
    runner = RecordingRunner(context)
    late = datetime.strptime("23:59", "%H:%M").time()
    scheduler = Scheduler(store, runner, LearnSchedule(late, 3), clock)
    _decide(context.database_url, "", clock.now() - timedelta(days=3), n=5)  # before the model was trained
    _decide(context.database_url, "", clock.now() - timedelta(hours=2), n=2, action="not_our_authority")
    _decide(context.database_url, "other-region", clock.now() - timedelta(hours=2), n=5)  # not this region's
    _decide(context.database_url, "", clock.now() - timedelta(hours=1), n=2)
    assert scheduler.due() == []
    _decide(context.database_url, "", clock.now() - timedelta(minutes=30))
    assert scheduler.due() == [("", "decisions")]
    jobs = scheduler.tick()
    assert [j["requested_by"] for j in jobs] == ["schedule:decisions"]
    _finish_all(store, runner.submitted)
    assert scheduler.tick() == []  # counted again from that job on


def test_only_active_regions_with_a_current_model_learn(deployment, tmp_path):
    store, context, clock = deployment
    engine = sa.create_engine(context.database_url)
    with engine.begin() as conn:
        for slug, status in (
            ("kota-samarinda", "active"),
            ("kabupaten-luwu-timur", "removed"),
            ("kota-bogor", "active"),
        ):
            conn.execute(
                regions.insert().values(
                    slug=slug, name=slug, status=status, created_at=clock.now(), updated_at=clock.now()
                )
            )
    engine.dispose()
    for slug in ("kota-samarinda", "kabupaten-luwu-timur"):
        models = context.region_dir(slug) / "models"
        models.mkdir(parents=True)
        shutil.copytree(context.models_dir + "/v1", models / "v1")
        point(models, CURRENT, models / "v1")
    assert learn_regions(sa.create_engine(context.database_url), context) == ["", "kota-samarinda"]


def test_schedule_settings_are_checked():
    from service.learn_schedule import ScheduleError

    assert LearnSchedule.from_config({}).after_decisions == 50
    with pytest.raises(ScheduleError, match="LEARN_NIGHTLY_AT"):
        LearnSchedule.from_config({"LEARN_NIGHTLY_AT": "2 am"})
    with pytest.raises(ScheduleError, match="at least 1"):
        LearnSchedule.from_config({"LEARN_AFTER_DECISIONS": "0"})


@pytest.mark.slow
def test_jobs_run_on_dask_when_a_scheduler_is_set(sqlite_url):
    """DISPOSISI_DASK_SCHEDULER: the job runs in a Dask worker process, which claims and records it itself."""
    import os

    from distributed import LocalCluster

    from service.learn_job import run_learn

    store = _store(sqlite_url)
    context = JobContext(sqlite_url, "/nonexistent", clock=store.clock)
    job = store.enqueue("kota-nowhere", "learn")
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    runner = JobRunner(context, {"learn": run_learn}, dask_scheduler=cluster.scheduler_address)
    try:
        outcome = runner.run(job)
    finally:
        runner.close()
        cluster.close()
    assert outcome.state == "failed" and outcome.reason == "region kota-nowhere is not set up in this deployment"
    row = store.get(job["id"])
    assert row["state"] == "failed" and not row["worker"].endswith(f":{os.getpid()}")  # another process ran it
    store.close()


def test_the_base_learns_weekly_after_the_night_when_regions_decided_and_regions_wait_for_it(deployment):
    from service.jobs import BASE_REGION

    store, context, clock = deployment
    runner = RecordingRunner(context)
    scheduler = Scheduler(store, runner, LearnSchedule(datetime.strptime("02:00", "%H:%M").time(), 50, 7), clock)
    _decide(context.database_url, "kota-samarinda", clock.now() - timedelta(hours=1))
    assert not scheduler.base_due()  # no base in DATA_DIR/bases: a single-region deployment has nothing to teach
    (context.region_dir("x").parent.parent / "bases" / "d1").mkdir(parents=True)
    (context.region_dir("x").parent.parent / "bases" / "d1" / "base.json").write_text("{}", encoding="utf-8")
    _decide(context.database_url, "", clock.now() - timedelta(hours=1))  # the deployment's own region is due too
    first = scheduler.tick()
    assert [(j["region_slug"], j["kind"], j["requested_by"]) for j in first] == [
        (BASE_REGION, "base", "schedule:weekly")
    ]
    assert scheduler.due() == [] and scheduler.tick() == []  # no region learns while the base job moves them
    _finish_all(store, runner.submitted)
    assert [j["region_slug"] for j in scheduler.tick()] == [""]  # now the region
    _finish_all(store, runner.submitted[1:])
    clock.offset += timedelta(days=3)
    _decide(context.database_url, "kota-samarinda", clock.now())
    assert not scheduler.base_due()  # a week has not passed
    clock.offset += timedelta(days=4)
    assert scheduler.base_due()
    never = Scheduler(store, runner, LearnSchedule(datetime.strptime("02:00", "%H:%M").time(), 50, 0), clock)
    assert not never.base_due()


def test_base_schedule_setting_is_checked():
    from service.learn_schedule import ScheduleError

    assert LearnSchedule.from_config({}).base_every_days == 7
    assert LearnSchedule.from_config({"LEARN_BASE_EVERY_DAYS": "0"}).base_every_days == 0
    with pytest.raises(ScheduleError, match="LEARN_BASE_EVERY_DAYS must be 0"):
        LearnSchedule.from_config({"LEARN_BASE_EVERY_DAYS": "-1"})
    with pytest.raises(ScheduleError, match="whole number of days"):
        LearnSchedule.from_config({"LEARN_BASE_EVERY_DAYS": "weekly"})
