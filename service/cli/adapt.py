"""`disposisi adapt`: a model for another region from a model trained elsewhere."""

from __future__ import annotations

from pathlib import Path

from .common import UserError, add_out_arguments, check_out_dir
from .train import fit_progress, model_summary


def add_parser(sub) -> None:
    p = sub.add_parser(
        "adapt",
        help="make a model for a region (its registry) from a model trained elsewhere; works with zero local labels",
    )
    p.add_argument(
        "--model",
        "--base",
        dest="model",
        required=True,
        help="model directory trained with `disposisi train` (any region), or a base directory "
        "(DATA_DIR/bases/<digest>, written by `disposisi model split`): from a base, --out is a small head on it",
    )
    p.add_argument(
        "--head",
        action="store_true",
        help="write a head on the shared base (the default when --base is a base directory; needs one)",
    )
    p.add_argument(
        "--registry", required=True, help="the new region's registry CSV (write one with `disposisi registry init`)"
    )
    p.add_argument("--data", default=None, help="optional: the region's own labeled complaints (CSV or LAPOR! xlsx)")
    add_out_arguments(p)
    p.add_argument("--text-column", default="text", help="column of the complaint text in --data (default: text)")
    p.add_argument(
        "--label-column", default="agency", help="column of the dispatched agency in --data (default: agency)"
    )
    p.add_argument("--date-column", default="date", help="column of the date received in --data (default: date)")
    p.set_defaults(func=run)


def run(args) -> int:
    from routing_model.artifact.bases import BASE_FILE
    from training.adapt import adapt_and_save, adapt_head

    check_out_dir(args.out, args.force)
    from_base = (Path(args.model) / BASE_FILE).is_file()
    if args.head and not from_base:
        raise UserError(
            f"--head needs a base directory, and {args.model} is not one ({BASE_FILE} is missing); "
            "make one with `disposisi model split MODEL_DIR --out BASES_DIR`"
        )
    with fit_progress("adapt") as stage_done:
        card = (adapt_head if from_base else adapt_and_save)(
            args.model,
            args.registry,
            args.out,
            args.data,
            args.text_column,
            args.label_column,
            args.date_column,
            progress=stage_done,
        )
    region, inbox = card.get("region") or {}, card.get("inbox")
    where = f"the inbox of {inbox['scope']}" if inbox else f"{region.get('name')} ({region.get('province')})"
    print(f"model {card['version']} for {where} written to {args.out}")
    print(f"  base model {card['base_model']['version']} ({(card['base_model'].get('region') or {}).get('name')})")
    if from_base:
        print(f"  head on base {card['base_digest']}")
    report = (card.get("training_data") or {}).get("report")
    if report:
        print(
            f"  local labeled rows read {report['rows_read']}, used {report['rows_used']}, skipped {report['skipped']}"
        )
        if report["unknown_labels"]:
            print(f"  labels not in the new registry (skipped): {report['unknown_labels']}")
    print(model_summary(card))
    return 0
