"""When a region's model is retrained without anyone at a shell: nightly, and after enough new decisions.

A region is due when it has no active job and has new decisions (accepted or corrected, made
after its model was trained and after its last ``learn`` job was asked for), and either

* the nightly moment (``DISPOSISI_LEARN_NIGHTLY_AT``, WIB, default 02:00) of today has passed and
  no ``learn`` job of the region was asked for since then, or
* at least ``DISPOSISI_LEARN_AFTER_DECISIONS`` (default 50) new decisions came in.

The shared base learns from every region's decisions (a ``base`` job, ``service.base_job``) once every
``DISPOSISI_LEARN_BASE_EVERY_DAYS`` (default 7; 0: never), after the nightly moment, when a region decided anything
since the last one; while it runs no region's ``learn`` job is asked for.

The jobs table is the scheduler's memory: a restarted server does not run a night's jobs twice.
Time is the service's clock. The scheduler runs in the gunicorn master only (``service.server``),
once per deployment, never in the workers.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from routing_model.artifact.persistence import read_card
from routing_model.artifact.store import CURRENT
from routing_model.errors import DisposisiError

from .bases import BaseModelError, deployment_base
from .clock import Clock
from .db import create_engine, regions
from .job_runner import JobContext, JobRunner
from .jobs import BASE_REGION, JobError, JobStore
from .learn_job import count_decisions, count_decisions_anywhere, region_paths
from .sla import LOCAL_TZ

log = logging.getLogger(__name__)

NIGHTLY_AT = "02:00"
AFTER_DECISIONS = 50
BASE_EVERY_DAYS = 7


class ScheduleError(DisposisiError, ValueError):
    """A schedule setting is malformed; the message names it."""


@dataclass(frozen=True)
class LearnSchedule:
    nightly_at: time
    after_decisions: int
    base_every_days: int = BASE_EVERY_DAYS

    @classmethod
    def from_config(cls, config) -> LearnSchedule:
        raw = str(config.get("LEARN_NIGHTLY_AT") or NIGHTLY_AT)
        try:
            nightly = time.fromisoformat(raw)
        except ValueError:
            raise ScheduleError(f"DISPOSISI_LEARN_NIGHTLY_AT must be a time such as 02:00, got {raw!r}") from None
        try:
            after = int(config.get("LEARN_AFTER_DECISIONS", AFTER_DECISIONS))
        except ValueError:
            raise ScheduleError("DISPOSISI_LEARN_AFTER_DECISIONS must be a whole number") from None
        if after < 1:
            raise ScheduleError("DISPOSISI_LEARN_AFTER_DECISIONS must be at least 1")
        try:
            every = int(config.get("LEARN_BASE_EVERY_DAYS", BASE_EVERY_DAYS))
        except ValueError:
            raise ScheduleError("DISPOSISI_LEARN_BASE_EVERY_DAYS must be a whole number of days") from None
        if every < 0:
            raise ScheduleError("DISPOSISI_LEARN_BASE_EVERY_DAYS must be 0 (never) or more")
        return cls(nightly, after, every)


def learn_regions(engine: sa.engine.Engine, context: JobContext) -> list[str]:
    """Slugs of the regions that can learn: active ones with a current model, and the deployment's own."""
    with engine.connect() as conn:
        slugs = conn.execute(
            sa.select(regions.c.slug).where(regions.c.status == "active", regions.c.kind == "region")
        ).scalars()
        found = [s for s in slugs if (region_paths(context, s)[0] / CURRENT).exists()]
    if context.models_dir and (region_paths(context, "")[0] / CURRENT).exists():
        found.insert(0, "")
    return found


def _trained_at(models_dir) -> datetime | None:
    try:
        return datetime.fromisoformat(read_card((models_dir / CURRENT).resolve())["created_at"])
    except (OSError, KeyError, ValueError, DisposisiError):
        return None


class Scheduler:
    """Decides which regions are due (``due``), asks for their jobs and hands them to the runner (``tick``)."""

    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        schedule: LearnSchedule,
        clock: Clock | None = None,
        interval: float = 60.0,
    ):
        self.store, self.runner, self.schedule = store, runner, schedule
        self.clock = clock or store.clock
        self.interval = interval
        self.context = runner.context
        self.engine = create_engine(self.context.database_url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self) -> list[tuple[str, str]]:
        """``(slug, why)`` for every region that should learn now (why: nightly | decisions)."""
        now = self.clock.now()
        tonight = self._tonight(now)
        out = []
        if self.store.active(BASE_REGION) is not None:
            return out  # the base job is moving every region
        for slug in learn_regions(self.engine, self.context):
            if self.store.active(slug) is not None:
                continue
            last = self.store.last(slug, "learn")
            marks = [t for t in (_trained_at(region_paths(self.context, slug)[0]), last and last["requested_at"]) if t]
            new = count_decisions(self.engine, slug, max(marks) if marks else None)
            if new == 0:
                continue
            if now >= tonight and (last is None or last["requested_at"] < tonight):
                out.append((slug, "nightly"))
            elif new >= self.schedule.after_decisions:
                out.append((slug, "decisions"))
        return out

    def _tonight(self, now: datetime) -> datetime:
        return datetime.combine(now.astimezone(LOCAL_TZ).date(), self.schedule.nightly_at, LOCAL_TZ)

    def base_due(self) -> bool:
        """The shared base should learn now: weekly (``base_every_days``), after the nightly moment, when a region
        decided anything since the last base job was asked for."""
        every = self.schedule.base_every_days
        if every <= 0 or self.store.active(BASE_REGION) is not None:
            return False
        now = self.clock.now()
        last = self.store.last(BASE_REGION, "base")
        if now < self._tonight(now) or (last is not None and now - last["requested_at"] < timedelta(days=every)):
            return False
        try:
            deployment_base(self.context.data_dir)
        except BaseModelError:  # a single-region deployment without bases: nothing to teach
            return False
        return count_decisions_anywhere(self.engine, last and last["requested_at"]) > 0

    def tick(self) -> list[dict]:
        """Ask for and start the due jobs (the base's first, then the regions'); returns the jobs asked for."""
        started = []
        if self.base_due():
            try:
                job = self.store.enqueue(BASE_REGION, "base", requested_by="schedule:weekly")
            except JobError:
                job = None
            if job is not None:
                self.runner.submit(job)
                return [job]  # the regions learn after it
        for slug, why in self.due():
            try:
                job = self.store.enqueue(slug, "learn", requested_by=f"schedule:{why}")
            except JobError:  # another process asked first
                continue
            self.runner.submit(job)
            started.append(job)
        return started

    def resume(self) -> None:
        """After a restart: mark dead workers' jobs failed, start the jobs still queued."""
        failed = self.store.recover_interrupted()
        if failed:
            log.warning("jobs %s were interrupted by a restart: marked failed, rerun with `disposisi learn`", failed)
        for job in self.store.queued():
            if job["kind"] in self.runner.handlers:
                self.runner.submit(job)

    def start(self) -> None:
        if self._thread is not None:
            return
        self.resume()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="disposisi-learn-schedule", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the schedule must outlive a database hiccup
                log.exception("learning schedule: tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.runner.close()
        self.engine.dispose()
        self.store.close()
