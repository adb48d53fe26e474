"""`disposisi promote` / `disposisi rollback`: switch the current model of a models directory."""

from __future__ import annotations

import argparse
import json

from service.cli.common import add_registry_argument, stage_progress


def add_parser(sub) -> None:
    p = sub.add_parser("promote", help="make a retrained model current if it is not worse (atomic switch)")
    p.add_argument("new_dir", metavar="NEW_DIR", help="model directory written by `disposisi retrain`")
    p.add_argument("--models-dir", required=True, help="directory of model versions with the 'current' pointer")
    p.add_argument("--force", action="store_true", help="promote even if the gate refuses (needs --reason)")
    p.add_argument("--reason", default=None, help="why (recorded in promotions.jsonl)")
    p.add_argument("--by", default=None, help="who promotes (default: the login name)")
    add_registry_argument(p, "agency registry CSV the model must match")
    p.add_argument("--progress-every", type=float, default=None, help=argparse.SUPPRESS)  # tests: a log line per stage
    p.set_defaults(func=run_promote)

    r = sub.add_parser("rollback", help="switch the current model back to the previous one")
    r.add_argument("--models-dir", required=True, help="directory of model versions with the 'current' pointer")
    r.add_argument("--by", default=None, help="who rolls back (default: the login name)")
    r.add_argument("--reason", default=None, help="why (recorded in promotions.jsonl)")
    r.set_defaults(func=run_rollback)


def _user_error(exc):
    from service.cli.common import UserError

    return UserError(str(exc))


def run_promote(args) -> int:
    from routing_model.artifact.store import ModelStoreError
    from training.learning.promotion import PROMOTE_STAGES, PromotionError, promote

    try:
        with stage_progress("promote", len(PROMOTE_STAGES), every=args.progress_every) as stage_done:
            entry = promote(
                args.new_dir, args.models_dir, args.force, args.reason, args.by, args.registry, progress=stage_done
            )
    except (PromotionError, ModelStoreError) as exc:
        raise _user_error(exc) from exc
    forced = " (FORCED)" if entry["forced"] else ""
    print(f"promoted {entry['version']} to current in {args.models_dir}{forced}; previous: {entry['previous']}")
    print(f"  {entry['decision']}")
    if entry["figures"].get("bootstrap"):
        print(f"  bootstrap: {json.dumps(entry['figures']['bootstrap'])}")
    return 0


def run_rollback(args) -> int:
    from routing_model.artifact.store import ModelStoreError
    from training.learning.promotion import PromotionError, rollback

    try:
        entry = rollback(args.models_dir, args.by, args.reason)
    except (PromotionError, ModelStoreError) as exc:
        raise _user_error(exc) from exc
    print(f"rolled back: current is {entry['version']} again (was {entry['previous']})")
    return 0
