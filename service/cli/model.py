"""`disposisi model split`: convert a whole model directory once into a shared base and the region's head."""

from __future__ import annotations

from pathlib import Path

from .common import UserError


def add_parser(sub) -> None:
    p = sub.add_parser("model", help="work with model directories (split one into a shared base and a head)")
    actions = p.add_subparsers(dest="action", required=True)
    split = actions.add_parser(
        "split",
        help="write a model's shared part as BASES/<digest>/ and its region's part as a head beside the model",
    )
    split.add_argument("model_dir", help="model directory written by `disposisi train` or `adapt`")
    split.add_argument("--out", required=True, help="directory of bases (DATA_DIR/bases); the base goes in <digest>/")
    split.add_argument("--head-out", default=None, help="head directory to write (default: MODEL_DIR-head)")
    split.set_defaults(func=run_split)


def run_split(args) -> int:
    from routing_model.artifact.split import split_model

    model_dir = Path(args.model_dir)
    head = Path(args.head_out) if args.head_out else model_dir.with_name(f"{model_dir.name}-head")
    if head.exists() and (not head.is_dir() or any(head.iterdir())):
        raise UserError(f"--head-out {head} exists and is not empty; choose a new directory")
    digest, card = split_model(model_dir, args.out, head)
    print(f"base {digest} in {Path(args.out) / digest}")
    print(f"head of model {card['version']} in {head}")
    return 0
