"""`disposisi suggest`: suggestions for one or a few complaints typed on the command line."""
from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("suggest", help="suggest agencies for complaint texts given as arguments")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("texts", nargs="+", help="complaint text(s)")
    p.set_defaults(func=run)


def run(args) -> int:
    from routing_model import RoutingModel

    model = RoutingModel.load(args.model)
    for text, s in zip(args.texts, model.suggest(args.texts, k=args.k)):
        if args.json:
            print(json.dumps(s.to_dict() | {"model_version": model.version}, ensure_ascii=False))
            continue
        print(f"\n{text[:100]}")
        for agency, p in s.agencies:
            print(f"  {p:6.1%}  {agency}")
        verdict = "NEEDS A HUMAN" if s.needs_review else "suggest top-1"
        extra = f" ({', '.join(s.warnings)})" if s.warnings else ""
        print(f"  -> {verdict}{extra}; because of: {', '.join(s.reasons) or '-'}")
    return 0
