"""`disposisi db upgrade`: bring the feedback database to this version's schema (Alembic, service/migrations).

Run it after installing a new version and before starting the service on an existing database;
`disposisi serve` runs it too, once, before its workers start. The database is the service's:
``--database-url``, else ``DISPOSISI_DATABASE_URL``, else the SQLite file in ``DISPOSISI_DATA_DIR``.
"""

from __future__ import annotations

import logging


def add_parser(sub) -> None:
    p = sub.add_parser("db", help="the feedback database's schema (upgrade it after installing a new version)")
    actions = p.add_subparsers(dest="db_command", required=True)
    up = actions.add_parser("upgrade", help="upgrade the database to this version's newest schema revision")
    up.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $DISPOSISI_DATABASE_URL, else the SQLite file "
        "in $DISPOSISI_DATA_DIR, default ./var)",
    )
    up.set_defaults(func=run_upgrade)


def run_upgrade(args) -> int:
    from service.config import load_config
    from service.db import safe_url, upgrade

    overrides = {"DATABASE_URL": args.database_url} if args.database_url else {}
    url = load_config(overrides, need_model=False)["DATABASE_URL"]
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step is noise here
    revision = upgrade(url)
    print(f"disposisi db upgrade: {safe_url(url)} is at schema revision {revision}", flush=True)
    return 0
