"""Run queued jobs: one callable per kind, in a local thread by default, on Dask when a scheduler is set.

The runner hands a job's id to ``execute_job``, which claims it (claim-once: a job another worker
took is left alone), runs the kind's handler and records the outcome. ``execute_job`` opens its
own connection, so it runs the same in a thread of this process or on a Dask worker elsewhere
(``DISPOSISI_DASK_SCHEDULER``, connected as ``classify --engine dask`` connects). The deployment
side registers its own kinds (``adapt``) in the same table of handlers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from routing_model.errors import DisposisiError

from .clock import Clock
from .jobs import JobError, JobOutcome, JobStore, this_worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What a job needs besides its row (picklable: it travels to a Dask worker).

    ``models_dir``/``registry``: the single-region deployment's own region (slug ``""``); every other
    region's paths derive from ``data_dir`` and its slug, never from a request."""

    database_url: str
    data_dir: str
    models_dir: str | None = None
    registry: str | None = None
    clock: Clock = field(default_factory=Clock)

    def region_dir(self, slug: str) -> Path:
        return Path(self.data_dir) / "regions" / slug


#: handler(context, job, report_progress) -> JobOutcome; raises DisposisiError for a clear failure
Handler = Callable[[JobContext, dict, Callable[[dict], None]], JobOutcome]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def execute_job(context: JobContext, job_id: int, handler: Handler) -> JobOutcome | None:
    """Claim job ``job_id``, run ``handler`` on it and record how it ended; None if another worker has it."""
    store = JobStore(context.database_url, context.clock)
    try:
        if not store.claim(job_id, this_worker()):
            return None
        job = store.get(job_id)
        try:
            outcome = handler(context, job, lambda progress: store.progress(job_id, progress))
        except DisposisiError as exc:
            outcome = JobOutcome("failed", reason=_one_line(exc))
        except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, never lost in a thread
            log.exception("job %s (%s) failed", job_id, job["kind"])
            outcome = JobOutcome("failed", reason=f"{type(exc).__name__}: {_one_line(exc)}")
        if not store.finish(job_id, outcome):
            log.warning("job %s ended %s but was no longer running (recovered meanwhile)", job_id, outcome.state)
        return outcome
    finally:
        store.close()


class JobRunner:
    """Runs jobs in daemon threads of this process, one at a time, or on Dask."""

    def __init__(self, context: JobContext, handlers: dict[str, Handler], dask_scheduler: str | None = None):
        self.context = context
        self.handlers = dict(handlers)
        self.dask_scheduler = dask_scheduler
        self._one_at_a_time = threading.Lock()
        self._futures: list[Future] = []
        self._closed = False
        self._client = None

    def register(self, kind: str, handler: Handler) -> None:
        """Add the handler of a kind (the deployment side's ``adapt``)."""
        self.handlers[kind] = handler

    def submit(self, job: dict) -> Future:
        """Start the job (its row is queued); the future's result is its JobOutcome, or None if taken."""
        handler = self.handlers.get(job["kind"])
        if handler is None:
            raise JobError(f"no handler for jobs of kind {job['kind']!r}")
        if self.dask_scheduler:
            if self._client is None:
                from .batch.runner import dask_client

                self._client, _ = dask_client(self.dask_scheduler)
            return self._client.submit(execute_job, self.context, job["id"], handler, pure=False)
        return self._local(job["id"], handler)

    def _local(self, job_id: int, handler: Handler) -> Future:
        """A daemon thread per job, one running at a time: a stopping server does not wait for a long
        training (the interrupted job is marked on the next start)."""
        future: Future = Future()

        def work() -> None:
            with self._one_at_a_time:
                if self._closed:
                    future.cancel()  # the job stays queued: resumed on the next start
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(execute_job(self.context, job_id, handler))
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                    future.set_exception(exc)

        threading.Thread(target=work, name=f"disposisi-job-{job_id}", daemon=True).start()
        self._futures = [f for f in self._futures if not f.done()] + [future]
        return future

    def run(self, job: dict) -> JobOutcome | None:
        """Submit the job and wait for its outcome (``disposisi learn``)."""
        return self.submit(job).result()

    def close(self, wait: bool = False) -> None:
        """Stop taking work: jobs not started are cancelled; a running local job finishes (``wait``) or is
        left to recovery."""
        if wait:
            for future in self._futures:
                if not future.cancelled():
                    future.exception()  # waits; the outcome is in the jobs table
        else:
            self._closed = True
            for future in self._futures:
                future.cancel()
        self._futures = [f for f in self._futures if not f.done()]
        if self._client is not None:
            self._client.close()
            self._client = None
