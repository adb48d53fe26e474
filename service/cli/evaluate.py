"""`disposisi evaluate`: train and measure on held-out data, next to the reference model."""

from __future__ import annotations

import json

from service.cli.common import add_column_arguments, add_registry_argument, add_seed_argument


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="held-out quality report (ours vs the reference model)")
    p.add_argument("--data", required=True, help="labeled CSV or LAPOR! xlsx")
    p.add_argument(
        "--split",
        choices=["temporal", "cv"],
        default="temporal",
        help="temporal: train on the past, test on the last year (default); cv: 5-fold cross-validation",
    )
    p.add_argument(
        "--test-from", default=None, help="temporal split: first test date (default: Jan 1 of the last year)"
    )
    add_column_arguments(p)
    add_registry_argument(p)
    add_seed_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_prequential_arguments(p)
    p.set_defaults(func=run)


def add_prequential_arguments(parser) -> None:
    """Options of `disposisi evaluate --prequential` (``training.learning.prequential`` reads them). Here,
    not there: every command's parser is built at start-up, and the replay module imports pandas
    and scikit-learn, which `disposisi serve` must not load."""
    parser.add_argument(
        "--prequential",
        action="store_true",
        help="replay history period by period (train on the past, test on the period)",
    )
    parser.add_argument(
        "--period",
        default="month",
        choices=["month", "quarter", "week", "year"],
        help="prequential period (default month)",
    )
    parser.add_argument("--since", default=None, help="first prequential period, e.g. 2023-01")
    parser.add_argument(
        "--until",
        default=None,
        help="last prequential period, e.g. 2022-12 (replay a tuning year without touching the test year)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="prequential: periods replayed in parallel (processes)")


def run(args) -> int:
    if args.prequential:
        from training.learning.prequential import run_prequential

        return run_prequential(args)
    from routing_model import Registry
    from training.evaluate import evaluate, format_table
    from training.train import DEFAULT_CLASSIFIER_PARAMS, load_labeled

    registry = Registry.load(args.registry)
    data = load_labeled(args.data, registry, args.text_column, args.label_column, args.date_column)
    result = evaluate(data, registry, args.split, DEFAULT_CLASSIFIER_PARAMS, args.test_from, args.seed)
    result["data_report"] = data.report()
    print(json.dumps(result, ensure_ascii=False) if args.json else format_table(result))
    return 0
