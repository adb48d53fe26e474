"""Disposisi's HTTP service: suggestions for admins and durable feedback on what they did.

``create_app(config)`` builds the Flask app; ``disposisi serve`` runs it under gunicorn.
"""
from __future__ import annotations

import logging

from flask import Flask

from .config import ConfigError, load_config

log = logging.getLogger(__name__)

__all__ = ["ConfigError", "create_app"]


def create_app(config: dict | None = None) -> Flask:
    """The app, configured from ``DISPOSISI_*`` variables with ``config`` (keys without prefix) on top.

    ``config`` may also carry ``MODEL``, an already loaded ``RoutingModel`` (tests, and the model
    the gunicorn master preloaded for its workers: ``service.preload``), with ``MODEL_FROM``, the
    directory it was loaded from; with ``MODELS_DIR`` the app still follows ``current`` from there.
    """
    from .api import health, mlflow, v1
    from .complaints_api import complaints_v1
    from .desk import init_desk
    from .errors import register_error_handlers
    from .state import ServiceState

    cfg = load_config(config)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_CONTENT_LENGTH"]
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.config["DISPOSISI"] = {k: v for k, v in cfg.items() if k != "MODEL"}
    app.extensions["disposisi"] = ServiceState(cfg)
    register_error_handlers(app)
    app.register_blueprint(v1)
    app.register_blueprint(health)
    app.register_blueprint(mlflow)
    app.register_blueprint(complaints_v1)
    init_desk(app, exempt=[v1, health, mlflow, complaints_v1])  # the JSON API authenticates by bearer token, not cookie
    return app
