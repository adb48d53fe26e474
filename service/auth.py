"""Who is calling: a bearer token for the API, a signed session for the desk; "admin" decides, "viewer" looks.

Tokens are never stored: the configuration keeps their sha256 (``token_hash``), and so does the
desk session, which is checked against the configured hashes on every request, so removing a
token from the config signs its sessions out. ``caller`` is the one place a request's
credentials become a role, for the JSON API, the complaints API and the desk alike.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from flask import current_app, request, session

from .errors import ApiError

ROLES = ("viewer", "admin")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="disposisi"'}


def token_hash(token: str) -> str:
    """The sha256 hex digest a token is known by (configuration, sessions, decision records)."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def role_for(digest: str) -> str | None:
    """"admin", "viewer" or None for a token digest (admin wins if a token is listed as both); constant-time."""
    for role, key in (("admin", "ADMIN_TOKEN_HASHES"), ("viewer", "VIEWER_TOKEN_HASHES")):
        found = False
        for expected in current_app.config[key] or ():
            found |= hmac.compare_digest(digest, expected)
        if found:
            return role
    return None


@dataclass(frozen=True)
class Caller:
    role: str | None  # None: not signed in (``why`` says why)
    digest: str | None = None
    why: str | None = None  # bearer: "missing", "malformed", "unknown"; session: "none", "expired", "revoked"


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
        digest, unknown = token_hash(token), "unknown"
    else:
        digest, unknown = session.get("tok"), "revoked"
        if not digest:
            return Caller(None, why="none")
        if time.time() - float(session.get("at", 0)) > current_app.config["SESSION_MINUTES"] * 60:
            return Caller(None, digest, "expired")
    role = role_for(digest)
    return Caller(role, digest, None if role else unknown)


def bearer_role(need: str = "admin") -> tuple[str, str]:
    """(role, token digest) of the request's bearer token; 401 without one, 403 when the role is too low."""
    who = caller("bearer")
    if who.why == "missing":
        raise ApiError(401, "unauthorized", "token required: send 'Authorization: Bearer <token>'", CHALLENGE)
    if who.why == "malformed":
        raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'", CHALLENGE)
    if who.role is None:
        raise ApiError(403, "forbidden", "this token is neither an admin nor a viewer token")
    if ROLES.index(who.role) < ROLES.index(need):
        raise ApiError(403, "forbidden", "this is a viewer token: it may read the queue but not change anything")
    return who.role, who.digest
