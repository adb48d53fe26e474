"""Meja admin: the admins' web desk, in the same Flask app as the API (docs/desk.md).

``init_desk(app)`` wires what the desk needs app-wide: the session cookie (HttpOnly,
SameSite=Strict, Secure behind TLS), CSRF protection for every form (Flask-WTF; the token-protected
JSON API is exempt), Flask-Babel, the upload size limit and the security headers (a
Content-Security-Policy that allows no inline script).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from ..scope import scoped
from .i18n import compiled_translations, select_locale

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
csrf = CSRFProtect()


class DeskSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session; ``Secure`` follows DISPOSISI_COOKIE_SECURE (auto: when served over TLS)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        mode = app.config["COOKIE_SECURE"]
        if mode == "auto":
            return bool(request) and (
                request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
            )
        return mode == "1"


def secret_key(cfg: dict) -> str:
    """DISPOSISI_SECRET_KEY, else a random key created once in DATA_DIR (shared by every worker process).

    Workers start together: the key is written to a private temporary file and published with
    ``os.link``, which fails if another worker got there first, so no worker ever reads a half-written key.
    """
    if cfg.get("SECRET_KEY"):
        return str(cfg["SECRET_KEY"])
    path = Path(cfg["DATA_DIR"]) / "desk_secret_key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".desk_secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()


def init_desk(app: Flask, exempt: list) -> None:
    from ..complaints_api import UPLOAD_ENDPOINTS
    from .views import desk

    cfg = app.config  # the DISPOSISI_* settings, flat
    app.config.update(
        SECRET_KEY=secret_key(cfg),
        SESSION_COOKIE_NAME="disposisi_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=cfg["SESSION_MINUTES"]),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (expiring) session
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Strict already blocks cross-site posts; proxies may drop Referer
        BABEL_DEFAULT_LOCALE="id",
        BABEL_TRANSLATION_DIRECTORIES=str(compiled_translations()),
    )
    app.session_interface = DeskSessionInterface()

    @app.before_request
    def _upload_limit():  # registered before CSRFProtect's hook, which reads the form first
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = cfg["MAX_UPLOAD_BYTES"]

    csrf.init_app(app)
    for bp in exempt:
        csrf.exempt(bp)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(desk)

    @app.get("/")
    @scoped("public")
    def _root():
        return redirect(url_for("desk.queue"))

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.blueprint == "desk" or resp.mimetype == "text/html":
            resp.headers["Content-Security-Policy"] = CSP
            resp.headers["X-Frame-Options"] = "DENY"
            resp.headers["Referrer-Policy"] = "same-origin"
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
