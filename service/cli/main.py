"""Entry point of the `disposisi` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from routing_model.errors import DisposisiError
from service.cli.common import UserError

# Each module defines add_parser(subparsers) and sets a `func(args) -> int` default.
COMMAND_MODULES = [
    "service.cli.train",
    "service.cli.adapt",
    "service.cli.evaluate",
    "service.cli.classify",
    "service.cli.select",
    "service.cli.suggest",
    "service.cli.serve",
    "service.cli.db",
    "service.cli.account",
    "service.cli.retrain",
    "service.cli.promote",
    "service.cli.learn",
    "service.cli.report",
    "service.cli.registry",
    "service.cli.region",
    "service.cli.model",
]


__all__ = ["UserError", "build_parser", "main", "version"]


def version() -> str:
    """The installed package's version (also right in a wheel install, where there is no repo)."""
    from importlib import metadata

    try:
        return metadata.version("disposisi")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="disposisi", description="Suggest the agency responsible for a citizen complaint."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument(
        "--version", action="version", version=f"disposisi {version()}", help="print the version and exit"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except DisposisiError as exc:
        print(f"disposisi {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"disposisi {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `disposisi suggest ... | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 141


if __name__ == "__main__":
    sys.exit(main())
