"""`disposisi retrain`: a challenger from the current model's data + new labels + admin feedback."""

from __future__ import annotations

import json

from service.cli.common import add_registry_argument, add_seed_argument


def add_parser(sub) -> None:
    p = sub.add_parser("retrain", help="retrain on new labels and admin feedback; records champion vs challenger")
    p.add_argument("--model", required=True, help="the current model directory (its training data is re-read)")
    p.add_argument("--out", required=True, help="new model directory to write (must not exist or be empty)")
    p.add_argument(
        "--data",
        nargs="+",
        action="extend",
        default=[],
        help="newly labeled complaints: CSV or LAPOR! xlsx (repeatable)",
    )
    p.add_argument("--feedback", default=None, help="feedback DATABASE_URL or a CSV export of the feedback table")
    p.add_argument(
        "--training-data",
        default=None,
        metavar="PATH",
        help="where to keep the combined (masked) training set for the next retrain; never inside a model "
        "directory (default: OUT.training-data.csv beside --out)",
    )
    p.add_argument(
        "--skip-unknown",
        action="store_true",
        help="count and skip feedback naming agencies the registry does not know (default: error)",
    )
    add_registry_argument(p)
    add_seed_argument(p)
    p.add_argument(
        "--holdout-from",
        default=None,
        help="comparison slice: rows dated on/after this date (default: newest 20%% of dated rows)",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from training.learning.retrain import retrain

    card = retrain(
        args.model,
        args.out,
        args.data,
        args.feedback,
        args.registry,
        seed=args.seed,
        holdout_from=args.holdout_from,
        skip_unknown=args.skip_unknown,
        training_data_out=args.training_data,
    )
    cc = card["champion_challenger"]
    td = card["training_data"]
    if args.json:
        print(
            json.dumps(
                {
                    "version": card["version"],
                    "out": args.out,
                    "champion_challenger": {k: v for k, v in cc.items() if k != "per_row"},
                    "sources": td["sources"],
                    "feedback": td["feedback"],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(f"model {card['version']} written to {args.out} (parent {card['parent']['version']})")
    print(f"  training set (masked) kept in {td['path']}, outside the model directory")
    print(
        f"  trained on {td['rows']} rows: {json.dumps(td['sources'], ensure_ascii=False)}; skipped {json.dumps(td['report']['skipped'])}"
    )
    if td["feedback"]:
        fb = td["feedback"]
        print(f"  feedback: {json.dumps(fb['counts'])}; conflicts {fb['conflicts']}")
    s = cc["slice"]
    print(f"  comparison slice: {s['n']} rows, {s['rule']} ({s['seen_by_champion']} seen by the champion in training)")
    print(
        f"  champion   {cc['champion']['version']}: top-1 {cc['champion']['top1']:.3f}  top-3 {cc['champion']['top3']:.3f}"
    )
    print(
        f"  challenger (without the slice): top-1 {cc['challenger']['top1']:.3f}  top-3 {cc['challenger']['top3']:.3f}"
    )
    print(f"  promote with: disposisi promote {args.out} --models-dir DIR")
    return 0
