"""`disposisi train`: learn a routing model from complaints admins already dispatched."""
from __future__ import annotations

import json

from commands.common import add_column_arguments, add_registry_argument


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model from labeled complaints (CSV or LAPOR! xlsx)")
    p.add_argument("--data", required=True, help="CSV or SP4N-LAPOR! 'Laporan Ringkas' .xlsx export")
    p.add_argument("--out", required=True, help="model directory to write (new or empty; see --force)")
    p.add_argument("--force", action="store_true", help="write into --out even if it is not empty (its files are replaced)")
    add_column_arguments(p)
    add_registry_argument(p)
    p.set_defaults(func=run)


def check_out_dir(out, force: bool) -> None:
    """Refuse to write a model over a non-empty directory unless asked: it may be another model."""
    from pathlib import Path

    from commands.common import UserError

    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {out} is a file, not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise UserError(f"--out {out} is not empty; choose a new directory, or pass --force to replace what is in it")


def run(args) -> int:
    from training.train import train_and_save

    check_out_dir(args.out, args.force)
    card = train_and_save(args.data, args.out, args.registry, args.text_column, args.label_column, args.date_column)
    report = card["training_data"]["report"]
    print(f"model {card['version']} written to {args.out}")
    print(f"  rows read {report['rows_read']}, trained on {report['rows_used']}, skipped {json.dumps(report['skipped'])}")
    if report["unknown_labels"]:
        print(f"  labels not in the registry (skipped): {json.dumps(report['unknown_labels'], ensure_ascii=False)}")
    if report["duplicates_removed"] or report["conflicting_duplicates"]:
        print(f"  duplicates removed {report['duplicates_removed']}, of which with conflicting labels {report['conflicting_duplicates']}")
    cal = card["calibration"]
    print(
        f"  out-of-fold top-1 {cal['oof_top1']:.3f}, ECE {cal['oof_ece']:.3f}; review threshold {card['review_threshold']:.3f} "
        f"(auto-suggest share {cal['review']['coverage']:.2f} at precision {cal['review']['precision']:.2f})"
    )
    print(f"  agencies: {len(card['classes'])}, trained in {card['training_seconds']} s")
    return 0
