"""Who is calling: a bearer token for the API, a signed session for the desk; "admin" decides, "viewer" looks.

Two kinds of credentials: accounts (``service/accounts.py``: a username and password for the desk, API tokens
issued by ``disposisi account token``) and the environment tokens (``DISPOSISI_ADMIN_TOKENS`` /
``DISPOSISI_VIEWER_TOKENS``), kept as the bootstrap path. Tokens are never stored: the configuration and the
``api_tokens`` table keep their sha256 (``token_hash``). A desk session carries a random id whose row
(``desk_sessions``) is ended at sign-out, so its cookie is refused afterwards; a token session is also checked
against the configured hashes on every request (removing a token signs its sessions out), an account session
against the account (deactivating it signs its sessions out). ``caller`` is the one place a request's
credentials become a role, for the JSON API, the complaints API and the desk alike: an account's role maps
to the two levels (operator and admin decide; supervisor and viewer look) and the ``Caller`` carries the account.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from flask import current_app, request, session

from .errors import ApiError

ROLES = ("viewer", "admin")  # the two permission levels
ACCOUNT_ROLES = ("operator", "supervisor", "admin", "viewer")
DECIDES = frozenset({"operator", "admin"})  # accounts of these roles are "admin", the others "viewer"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="disposisi"'}


def token_hash(token: str) -> str:
    """The sha256 hex digest a token is known by (configuration, sessions, decision records)."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def role_for(digest: str) -> str | None:
    """ "admin", "viewer" or None for a token digest (admin wins if a token is listed as both); constant-time."""
    for role, key in (("admin", "ADMIN_TOKEN_HASHES"), ("viewer", "VIEWER_TOKEN_HASHES")):
        found = False
        for expected in current_app.config[key] or ():
            found |= hmac.compare_digest(digest, expected)
        if found:
            return role
    return None


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    regions: tuple[str, ...] = ()
    province: str | None = None

    @property
    def level(self) -> str:
        """Today's permission level: "admin" (may decide) or "viewer" (may look)."""
        return "admin" if self.role in DECIDES else "viewer"

    def as_dict(self) -> dict:
        return {"username": self.username, "role": self.role, "regions": list(self.regions), "province": self.province}


@dataclass(frozen=True)
class Caller:
    role: str | None  # "admin", "viewer"; None: not signed in (``why`` says why)
    digest: str | None = None  # an environment or API token's sha256
    why: str | None = None  # bearer: "missing", "malformed", "unknown"; session: "none", "expired", "revoked"
    account: Account | None = None  # signed in as an account (its role, regions, province)

    def recorded_as(self, name: str | None = None) -> str:
        """The name a decision is recorded under: the account's username; for an environment token the
        given name, else a short token fingerprint."""
        if self.account is not None:
            return self.account.username
        return (name or "").strip()[:100] or f"token-{(self.digest or '')[:8]}"


def _accounts():
    """The app's account store (``service.accounts``), read from the app: this module imports no store."""
    return current_app.extensions["disposisi"].accounts


def caller(via: str) -> Caller:
    """The role of this request's ``Authorization: Bearer`` token (``via="bearer"``, the JSON APIs, which never
    read the cookie) or of its desk session (``via="session"``, the desk, which never reads the header)."""
    if via == "bearer":
        header = request.headers.get("Authorization", "").strip()
        if not header:
            return Caller(None, why="missing")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Caller(None, why="malformed")
        digest = token_hash(token)
        role = role_for(digest)
        if role:
            return Caller(role, digest)
        account = _accounts().for_token(digest)
        return Caller(None, digest, "unknown") if account is None else Caller(account.level, digest, account=account)
    sid = session.get("sid")
    if not sid:
        return Caller(None, why="none")
    if time.time() - float(session.get("at", 0)) > current_app.config["SESSION_MINUTES"] * 60:
        return Caller(None, why="expired")
    store = _accounts()
    if not store.session_open(sid):
        return Caller(None, why="revoked")
    if session.get("uid") is not None:
        account = store.get(int(session["uid"]))
        return Caller(None, why="revoked") if account is None else Caller(account.level, account=account)
    digest = session.get("tok")
    role = role_for(digest) if digest else None
    return Caller(role, digest, None if role else "revoked")


def bearer_role(need: str = "admin") -> Caller:
    """The caller of the request's bearer token; 401 without one, 403 when its role is too low."""
    who = caller("bearer")
    if who.why == "missing":
        raise ApiError(401, "unauthorized", "token required: send 'Authorization: Bearer <token>'", CHALLENGE)
    if who.why == "malformed":
        raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'", CHALLENGE)
    if who.role is None:
        raise ApiError(403, "forbidden", "this token is neither an admin nor a viewer token")
    if ROLES.index(who.role) < ROLES.index(need):
        raise ApiError(403, "forbidden", "this is a viewer token: it may read the queue but not change anything")
    return who
