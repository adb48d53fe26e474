"""Service configuration: ``DISPOSISI_*`` environment variables, overridable by a dict.

Read with Flask's ``Config.from_prefixed_env`` into flat keys, the variable names without the
prefix (``app.config["MODEL_DIR"]``, ``app.config["DATABASE_URL"]``...), then checked here.
"""

from __future__ import annotations

import os
import re

from flask import Config

from routing_model.errors import DisposisiError
from routing_model.text.validation import MAX_TEXT_CHARS

from .auth import token_hash
from .clock import Clock

PREFIX = "DISPOSISI_"

DEFAULTS: dict = {
    "MODEL_DIR": None,  # one model directory, never reloaded
    "DEPLOYMENT": False,  # no model named: serve the regions of DATA_DIR (`disposisi serve` without --model)
    "MODELS_DIR": None,  # a models directory whose `current` link is followed (hot reload)
    "DATA_DIR": "./var",
    "DATABASE_URL": None,  # default: sqlite file DATA_DIR/disposisi.sqlite3
    "ADMIN_TOKENS": "",  # comma-separated plain tokens (hashed at startup, never kept)
    "ADMIN_TOKEN_HASHES": "",  # comma-separated sha256 hex digests of tokens
    "MAX_TEXT_CHARS": MAX_TEXT_CHARS,  # the model's own limit; may be set lower
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "MAX_BATCH": 1000,
    "RELOAD_INTERVAL": 1.0,  # seconds between checks of MODELS_DIR/current
    "REGION_MODELS_KEPT": 128,  # a worker keeps the heads of this many recently asked regions loaded (the base is shared)
    "LIVE_GUARD_REFRESH": 60.0,  # seconds between re-reads of recent feedback by the live guard (routing_model/model/live_guard.py)
    # the admins' desk (docs/desk.md)
    "VIEWER_TOKENS": "",  # comma-separated tokens that may look at the desk and the queue but not decide
    "VIEWER_TOKEN_HASHES": "",
    "SECRET_KEY": None,  # signs desk session cookies; default: a random key kept in DATA_DIR/desk_secret_key
    "COOKIE_SECURE": "auto",  # auto: Secure cookie when the request came over TLS (or X-Forwarded-Proto: https)
    "SESSION_MINUTES": 480,  # a desk sign-in lasts one working day
    "MAX_UPLOAD_BYTES": 20 * 1024 * 1024,  # complaint uploads (xlsx/CSV); JSON bodies keep MAX_CONTENT_LENGTH
    "CLOCK_START": None,  # ISO time the service's clock reads at start-up (tests, training sessions); default: real time
    # the learning loop (service/learning.py, docs/learning.md)
    "REGISTRY": None,  # the registry of a single-region deployment's own models (default: the packaged one)
    "LEARN_SCHEDULE": "1",  # 0: serve never retrains on its own (disposisi learn still does)
    "LEARN_NIGHTLY_AT": "02:00",  # WIB: each region with new decisions learns once a night after this time
    "LEARN_AFTER_DECISIONS": 50,  # ... and as soon as this many new decisions came in
    "LEARN_CHECK_SECONDS": 60.0,  # how often the master looks for due regions
    "LEARN_BASE_EVERY_DAYS": 7,  # the shared base learns from every region's decisions this often (0: never)
    "DASK_SCHEDULER": None,  # jobs run on this Dask scheduler (as classify --engine dask) instead of a local thread
}
_INTS = (
    "MAX_TEXT_CHARS",
    "MAX_CONTENT_LENGTH",
    "MAX_BATCH",
    "SESSION_MINUTES",
    "MAX_UPLOAD_BYTES",
    "LEARN_AFTER_DECISIONS",
    "LEARN_BASE_EVERY_DAYS",
    "REGION_MODELS_KEPT",
)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ConfigError(DisposisiError, ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _split(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def load_config(overrides: dict | None = None, into: Config | None = None, need_model: bool = True) -> Config:
    """``DEFAULTS``, then the ``DISPOSISI_*`` variables, then ``overrides``, checked, into ``into`` (an app's
    config; default a new one). ``need_model=False`` for commands that only use the database."""
    cfg = Config(os.getcwd()) if into is None else into
    cfg.update(DEFAULTS)
    cfg.from_prefixed_env(PREFIX.rstrip("_"), loads=str)  # values stay strings (tokens); checked below
    cfg.update(overrides or {})
    _check(cfg, need_model)
    return cfg


def _check(cfg: Config, need_model: bool) -> None:
    for key in _INTS:
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{PREFIX}{key} must be an integer, got {cfg[key]!r}") from None
        if cfg[key] <= 0:
            raise ConfigError(f"{PREFIX}{key} must be positive, got {cfg[key]}")
    for key in ("RELOAD_INTERVAL", "LIVE_GUARD_REFRESH", "LEARN_CHECK_SECONDS"):
        try:
            cfg[key] = float(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{PREFIX}{key} must be a number, got {cfg[key]!r}") from None

    if isinstance(cfg["DEPLOYMENT"], str):
        cfg["DEPLOYMENT"] = cfg["DEPLOYMENT"].strip().lower() in ("1", "true", "yes")
    if need_model and not cfg.get("MODEL") and not cfg["MODEL_DIR"] and not cfg["MODELS_DIR"] and not cfg["DEPLOYMENT"]:
        raise ConfigError(
            f"set {PREFIX}MODEL_DIR (one model) or {PREFIX}MODELS_DIR (follow its 'current' link), "
            f"or serve the regions of {PREFIX}DATA_DIR (`disposisi serve` without --model)"
        )
    if cfg["DEPLOYMENT"] and (cfg.get("MODEL") or cfg["MODEL_DIR"] or cfg["MODELS_DIR"]):
        cfg["DEPLOYMENT"] = False  # a model named explicitly is served alone, as before regions
    if cfg["MODEL_DIR"] and cfg["MODELS_DIR"]:
        raise ConfigError(f"set only one of {PREFIX}MODEL_DIR and {PREFIX}MODELS_DIR")

    if not cfg["DATABASE_URL"]:
        from .db import default_sqlite_url

        cfg["DATABASE_URL"] = default_sqlite_url(cfg["DATA_DIR"])

    for role in ("ADMIN", "VIEWER"):
        hashes = [h.lower() for h in _split(cfg[f"{role}_TOKEN_HASHES"])]
        bad = [h for h in hashes if not _HEX64.match(h)]
        if bad:
            raise ConfigError(f"{PREFIX}{role}_TOKEN_HASHES must be sha256 hex digests (64 hex characters)")
        cfg[f"{role}_TOKEN_HASHES"] = tuple(hashes + [token_hash(t) for t in _split(cfg[f"{role}_TOKENS"])])
        cfg[f"{role}_TOKENS"] = None  # the plain tokens are not kept around
    secure = str(cfg["COOKIE_SECURE"]).strip().lower()
    if secure not in {"auto", "1", "0", "true", "false"}:
        raise ConfigError(f"{PREFIX}COOKIE_SECURE must be auto, 1 or 0, got {cfg['COOKIE_SECURE']!r}")
    cfg["COOKIE_SECURE"] = {"true": "1", "false": "0"}.get(secure, secure)
    if cfg["CLOCK_START"] and not cfg.get("CLOCK"):
        try:
            cfg["CLOCK"] = Clock.starting_at(str(cfg["CLOCK_START"]))
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}CLOCK_START: {exc}") from None
