"""`disposisi train`: learn a routing model from complaints admins already dispatched."""
from __future__ import annotations

import json

from routing_model.registry import DEFAULT_REGISTRY


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model from labeled complaints (CSV or LAPOR! xlsx)")
    p.add_argument("--data", required=True, help="CSV or SP4N-LAPOR! 'Laporan Ringkas' .xlsx export")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="agency")
    p.add_argument("--date-column", default="date")
    p.add_argument("--registry", default=str(DEFAULT_REGISTRY), help="agency registry CSV")
    p.set_defaults(func=run)


def run(args) -> int:
    from training.train import train_and_save

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
