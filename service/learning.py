"""The learning loop of a deployment, assembled from its configuration: job context, handlers, schedule.

``disposisi learn`` uses the context and handlers; ``disposisi serve`` starts the schedule in the
gunicorn master (``service.server``), once per deployment.
"""

from __future__ import annotations

from .adapt_job import run_adapt
from .base_job import run_base
from .clock import Clock
from .job_runner import Handler, JobContext, JobRunner
from .jobs import JobStore
from .learn_job import run_learn
from .learn_schedule import LearnSchedule, Scheduler


def job_context(config) -> JobContext:
    """What jobs need from the configuration (``MODELS_DIR``: the single-region deployment's own)."""
    return JobContext(
        database_url=config["DATABASE_URL"],
        data_dir=str(config["DATA_DIR"]),
        models_dir=str(config["MODELS_DIR"]) if config.get("MODELS_DIR") else None,
        registry=config.get("REGISTRY") or None,
        clock=config.get("CLOCK") or Clock(),
    )


def handlers() -> dict[str, Handler]:
    """The job kinds of a deployment: ``learn`` (retrain and judge), ``adapt`` (a region set up in the browser) and
    ``base`` (every region's decisions teach the shared base; every head re-derived on it)."""
    return {"learn": run_learn, "adapt": run_adapt, "base": run_base}


def runner_for(config) -> JobRunner:
    return JobRunner(job_context(config), handlers(), dask_scheduler=config.get("DASK_SCHEDULER") or None)


def start_schedule(config) -> Scheduler:
    """Recover interrupted jobs, resume queued ones and start the schedule thread (gunicorn master only)."""
    context = job_context(config)
    store = JobStore(context.database_url, context.clock)
    scheduler = Scheduler(
        store,
        runner_for(config),
        LearnSchedule.from_config(config),
        context.clock,
        interval=float(config.get("LEARN_CHECK_SECONDS") or 60.0),
    )
    scheduler.start()
    return scheduler
