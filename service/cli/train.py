"""`disposisi train`: learn a routing model from complaints admins already dispatched."""

from __future__ import annotations

import json
from contextlib import contextmanager

from service.cli.common import (
    add_column_arguments,
    add_out_arguments,
    add_registry_argument,
    check_out_dir,
    stage_progress,
)


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model from labeled complaints (CSV or LAPOR! xlsx)")
    p.add_argument("--data", required=True, help="CSV or SP4N-LAPOR! 'Laporan Ringkas' .xlsx export")
    add_out_arguments(p)
    add_column_arguments(p)
    add_registry_argument(p)
    p.set_defaults(func=run)


@contextmanager
def fit_progress(command: str, fits: int = 2):
    """Progress of a model fit: the held-out model, then the final one (a bar on a terminal, a
    log line otherwise); yields the callback ``RoutingModel.fit`` calls after each stage."""
    with stage_progress(command, fits, "fits") as stage_done:
        yield stage_done


def model_summary(card: dict) -> str:
    """What an admin must know about a fresh model: how far to trust it, in two lines."""
    cal, review = card["calibration"], card["calibration"].get("review", {})
    lines = []
    if card.get("small_data"):
        lines.append(
            f"  SMALL DATA: {cal['labeled_rows']} labeled complaints; the model leans on the shared functions and the "
            "registry, and every suggestion needs review until there are more labels"
        )
    if "holdout_top1" in cal:
        lines.append(
            f"  held-out {cal['holdout']}: top-1 {cal['holdout_top1']:.3f}, ECE {cal['holdout_ece']:.3f}; "
            f"auto-suggested without review {review.get('coverage', 0.0):.2f} at precision {review.get('precision', float('nan')):.2f} "
            f"(global threshold {card['review_threshold']:.3f}, {len(card.get('review_thresholds', {}))} per-agency)"
        )
    lines.append(
        f"  agencies: {len(card['classes'])}, function mix {cal['function_mix']:.2f}, trained in {card['training_seconds']} s"
    )
    return "\n".join(lines)


def run(args) -> int:
    from training.train import train_and_save

    check_out_dir(args.out, args.force)
    with fit_progress("train") as stage_done:
        card = train_and_save(
            args.data,
            args.out,
            args.registry,
            args.text_column,
            args.label_column,
            args.date_column,
            progress=stage_done,
        )
    report = card["training_data"]["report"]
    print(f"model {card['version']} written to {args.out}")
    print(
        f"  rows read {report['rows_read']}, trained on {report['rows_used']}, skipped {json.dumps(report['skipped'])}"
    )
    if report["unknown_labels"]:
        print(f"  labels not in the registry (skipped): {json.dumps(report['unknown_labels'], ensure_ascii=False)}")
    if report["duplicates_removed"] or report["conflicting_duplicates"]:
        print(
            f"  duplicates removed {report['duplicates_removed']}, of which with conflicting labels {report['conflicting_duplicates']}"
        )
    print(model_summary(card))
    return 0
