"""Who is calling: a bearer token for the API, a signed session for the desk; "admin" decides, "viewer" looks.

Tokens are never stored: the session keeps the token's sha256, which is checked against the
configured hashes on every request, so removing a token from the config signs its sessions out.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request

from .errors import ApiError

ROLES = ("viewer", "admin")


def bearer_role(need: str = "admin") -> tuple[str, str]:
    """(role, token digest) of the request's bearer token; 401 without one, 403 when the role is too low."""
    header = request.headers.get("Authorization", "").strip()
    challenge = {"WWW-Authenticate": 'Bearer realm="disposisi"'}
    if not header:
        raise ApiError(401, "unauthorized", "token required: send 'Authorization: Bearer <token>'", challenge)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'", challenge)
    state = current_app.extensions["disposisi"]
    role = state.role_of(token.strip())
    if role is None:
        raise ApiError(403, "forbidden", "this token is neither an admin nor a viewer token")
    if ROLES.index(role) < ROLES.index(need):
        raise ApiError(403, "forbidden", "this is a viewer token: it may read the queue but not change anything")
    return role, hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
