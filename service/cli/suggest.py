"""`disposisi suggest`: suggestions for one or a few complaints typed on the command line.

Each text is answered on its own: a bad one (empty, control characters only, too long) is
reported with its position and does not cost the others their answer. The exit status is 2
when any text failed, after the good ones were printed.
"""

from __future__ import annotations

import json
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("suggest", help="suggest agencies for complaint texts given as arguments")
    p.add_argument("--model", required=True, help="model directory written by `disposisi train`")
    p.add_argument("--k", type=int, default=3, help="suggestions per complaint (default 3)")
    p.add_argument(
        "--json", action="store_true", help="one JSON object per line, with the text's position (1-based) and id"
    )
    p.add_argument(
        "--id",
        dest="ids",
        action="append",
        default=None,
        metavar="ID",
        help="id of the text at the same position (repeat once per text; default: its position)",
    )
    p.add_argument("texts", nargs="+", help="complaint text(s)")
    p.set_defaults(func=run)


def run(args) -> int:
    from routing_model.artifact import persistence
    from routing_model.text.validation import check_text
    from service.cli.common import UserError

    if args.k < 1:
        raise UserError("--k must be at least 1")
    ids = args.ids or [str(i) for i in range(1, len(args.texts) + 1)]
    if len(ids) != len(args.texts):
        raise UserError(f"{len(ids)} --id values for {len(args.texts)} texts; give one --id per text or none")
    model = persistence.load_served(args.model)  # predicts exactly as the trained model, without scikit-learn
    problems = [check_text(text) for text in args.texts]
    good = [text for text, problem in zip(args.texts, problems) if problem is None]
    answers = iter(model.suggest(good, k=args.k) if good else [])
    for position, (text_id, text, problem) in enumerate(zip(ids, args.texts, problems), start=1):
        if problem is not None:  # reported in input order, on stderr; in the JSON stream too
            code, message = problem
            if args.json:
                print(
                    json.dumps(
                        {"position": position, "id": text_id, "error": {"code": code, "message": message}},
                        ensure_ascii=False,
                    )
                )
            print(f"disposisi suggest: error: text {position} (id {text_id}): {message}", file=sys.stderr)
            continue
        s = next(answers)
        if args.json:
            print(
                json.dumps(
                    {"position": position, "id": text_id} | s.to_dict() | {"model_version": model.version},
                    ensure_ascii=False,
                )
            )
            continue
        print(f"\n[{position}] {text[:100]}")
        for agency, p in s.agencies:
            print(f"  {p:6.1%}  {agency}")
        verdict = "NEEDS A HUMAN" if s.needs_review else "suggest top-1"
        extra = f" ({', '.join(s.warnings)})" if s.warnings else ""
        if s.needs_review and not s.warnings:
            extra = " (suggestions like this have not yet proved 90 % right on recent complaints)"
        print(f"  -> {verdict}{extra}; because of: {', '.join(s.reasons) or '-'}")
        if s.outside_region:
            where = s.outside_region
            print(
                f"  -> names places of {where['region']} ({where['province']}), not of this region: "
                f"{', '.join(where['evidence'])}; bukan wewenang? forward it there"
            )
    sys.stdout.flush()
    return 2 if any(problems) else 0
