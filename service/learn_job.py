"""The ``learn`` job of one region: its admins' decisions → a retrained challenger → today's gate → promotion.

Only the region's own decisions (``feedback.region_slug``) are read, so one region's data never
enters another's model. The challenger is written by ``retrain`` (atomically, in a hidden
``.candidates`` directory of the region's models directory, never served); the gate of
``disposisi promote`` decides on rows neither model saw; promotion is ``promote()``: the
``current`` pointer switched under the models directory's lock. A job killed at any point leaves
``current`` where it was: the champion keeps serving, and the next job clears what was left. A region's model
that is a head on the deployment's base is adapted again from that base and promoted as a head on it.
Decisions naming agencies the region no longer has are counted and skipped. A region removed
while its job runs ends the job ``failed`` before anything is promoted.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from routing_model.artifact.persistence import read_card
from routing_model.artifact.store import current_model_dir
from routing_model.errors import DisposisiError
from routing_model.io.feedback_schema import LABEL_ACTIONS

from .bases import bases_dir
from .db import as_utc, create_engine, feedback, regions
from .job_runner import JobContext
from .jobs import BASE_REGION, JobOutcome, JobStore

log = logging.getLogger(__name__)

CANDIDATES = ".candidates"  # challengers being written or judged: never served
TRAINING_DATA = ".training-data"  # the masked training set of each promoted model (its next retrain reads it)


class LearnError(DisposisiError, RuntimeError):
    """The region cannot learn now (removed, not set up, no models directory); nothing was promoted."""


def region_paths(context: JobContext, slug: str) -> tuple[Path, str]:
    """The region's models directory and registry: DATA_DIR/regions/<slug>/…, or the deployment's own."""
    if slug == "":
        if not context.models_dir:
            raise LearnError(
                "this deployment serves one model directory (--model); learning needs a models directory "
                "(--models-dir or DISPOSISI_MODELS_DIR) to promote into"
            )
        from routing_model.registry.agencies import DEFAULT_REGISTRY

        return Path(context.models_dir), str(context.registry or DEFAULT_REGISTRY)
    base = context.region_dir(slug)
    return base / "models", str(base / "registry.csv")


def check_region(engine: sa.engine.Engine, slug: str, when: str = "") -> None:
    """LearnError unless the region is set up and not removed (the deployment's own region always is)."""
    if slug == "":
        return
    with engine.connect() as conn:
        status = conn.execute(sa.select(regions.c.status).where(regions.c.slug == slug)).scalar()
    if status is None:
        raise LearnError(f"region {slug} is not set up in this deployment")
    if status == "removed":
        raise LearnError(f"region {slug} was removed{when}; nothing was promoted")


def count_decisions(engine: sa.engine.Engine, slug: str, since=None) -> int:
    """The region's decisions that are labels (accepted, corrected), made after ``since`` if given."""
    query = sa.select(sa.func.count()).where(
        feedback.c.region_slug == slug, feedback.c.action.in_(sorted(LABEL_ACTIONS))
    )
    if since is not None:
        query = query.where(feedback.c.created_at > as_utc(since))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def count_decisions_anywhere(engine: sa.engine.Engine, since=None) -> int:
    """Label decisions of every region of the deployment (not its own single-region ``""``), after ``since``."""
    query = sa.select(sa.func.count()).where(feedback.c.region_slug != "", feedback.c.action.in_(sorted(LABEL_ACTIONS)))
    if since is not None:
        query = query.where(feedback.c.created_at > as_utc(since))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _clear(path: Path) -> None:
    """Remove what an earlier, interrupted job left (one job per region runs at a time)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


def _skipped(card: dict) -> dict:
    counts = ((card.get("training_data") or {}).get("feedback") or {}).get("counts") or {}
    return {
        "decisions_used": int(counts.get("accepted", 0)) + int(counts.get("corrected", 0)),
        "skipped_unknown_agency": int(counts.get("unknown_agency", 0)),
        "skipped_retired_agency": int(counts.get("retired_agency", 0)),
    }


def run_learn(context: JobContext, job: dict, report: Callable[[dict], None]) -> JobOutcome:
    """The handler of ``learn`` jobs (service.job_runner)."""
    slug = job["region_slug"]
    models_dir, registry = region_paths(context, slug)
    engine = create_engine(context.database_url)
    try:
        check_region(engine, slug)
        moving = JobStore(context.database_url, context.clock, engine=engine).active(BASE_REGION)
        if moving is not None and slug:
            return JobOutcome(
                "refused", {}, f"the base job {moving['id']} is moving every region to a new base; learn after it"
            )
        champion = current_model_dir(models_dir)
        decisions = count_decisions(engine, slug)
        if decisions == 0:
            return JobOutcome("refused", {"decisions": 0}, "no decisions in this region to learn from yet")
        out = models_dir / CANDIDATES / f"job-{job['id']}"
        data_out = models_dir / TRAINING_DATA / f"job-{job['id']}.csv"
        _clear(out.parent)
        data_out.unlink(missing_ok=True)
        report({"stage": "training", "champion": champion.name, "decisions": decisions})
        try:
            return _train_judge_promote(engine, context, job, champion, models_dir, registry, out, data_out, report)
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)  # promoted files are hard-linked into models_dir
    finally:
        engine.dispose()


def _train_judge_promote(engine, context, job, champion, models_dir, registry, out, data_out, report) -> JobOutcome:
    from training.learning.promotion import PromotionError, gate, gate_figures, promote
    from training.learning.readapt import is_adapted, readapt
    from training.learning.retrain import retrain

    slug = job["region_slug"]
    promoted = False
    try:
        if is_adapted(read_card(champion)):  # a region adapted from a base: adapt again, with its decisions
            bases = bases_dir(context.data_dir) if slug else None  # a region's head is on DATA_DIR/bases/<digest>
            card = readapt(champion, out, context.database_url, registry, slug, data_out, bases=bases)
        else:
            card = retrain(
                champion,
                out,
                (),
                context.database_url,
                registry,
                skip_unknown=True,
                training_data_out=data_out,
                feedback_region=slug,
                log=log.info,
            )
        report({"stage": "gate", "challenger": card["version"]})
        check_region(engine, slug, " while its job ran")
        decision = gate(card["champion_challenger"], read_card(champion))
        figures = {
            **gate_figures(card, decision),
            **_skipped(card),
            "champion_version": read_card(champion).get("version"),
            "challenger_version": card["version"],
        }
        if not decision["ok"]:
            return JobOutcome("refused", figures, decision["why"])
        report({"stage": "promoting", "challenger": card["version"]})
        check_region(engine, slug, " while its job ran")
        try:
            entry = promote(
                out, models_dir, reason=f"learn job {job['id']}", by="disposisi learn", registry_path=registry
            )
        except PromotionError as exc:  # the champion changed meanwhile (a rollback): judged against another model
            return JobOutcome("refused", figures, str(exc))
        promoted = True
        return JobOutcome("passed", figures, entry["decision"])
    finally:
        if not promoted:
            data_out.unlink(missing_ok=True)
