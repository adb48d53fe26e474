"""`disposisi select`: cross-validate the classifier settings inside a training period."""

from __future__ import annotations

from service.cli.common import add_registry_argument, add_seed_argument


def add_parser(sub) -> None:
    p = sub.add_parser("select", help="choose classifier settings by cross-validation (before --until only)")
    p.add_argument("--data", required=True, help="labeled CSV or LAPOR! xlsx (columns text, agency, date)")
    p.add_argument("--until", default=None, help="use only rows dated before this (e.g. 2023-01-01)")
    add_registry_argument(p)
    add_seed_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from routing_model import Registry
    from training.selection import select
    from training.train import load_labeled

    registry = Registry.load(args.registry)
    frame = load_labeled(args.data, registry).frame
    if args.until:
        frame = frame[frame["date"].astype(bool) & (frame["date"] < args.until)]
    if len(frame) < 15 or frame["label"].nunique() < 2:
        from service.cli.common import UserError

        raise UserError(
            f"select needs at least 15 usable rows of 2 agencies for 5-fold cross-validation, got {len(frame)} "
            f"rows of {frame['label'].nunique()} agencies" + (f" dated before {args.until}" if args.until else "")
        )
    print(f"{len(frame)} rows; 5-fold CV + forward split (oldest 75% -> newest 25%), seed {args.seed}")
    results = select(
        frame["text"].tolist(), frame["label"].tolist(), registry, seed=args.seed, dates=frame["date"].tolist()
    )
    for r in results:
        print(
            "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) and k in ("top1", "top3", "score") else f"{k}={v}"
                for k, v in r.items()
            )
        )
    return 0
