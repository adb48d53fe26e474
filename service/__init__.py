"""Disposisi's HTTP service: suggestions for admins and durable feedback on what they did.

``create_app(config)`` builds the Flask app; ``disposisi serve`` runs it under gunicorn.
"""

from __future__ import annotations

import logging
import weakref

from flask import Flask

from .config import ConfigError, load_config

log = logging.getLogger(__name__)

__all__ = ["ConfigError", "create_app"]


def create_app(config: dict | None = None, store=None) -> Flask:
    """The app, configured from ``DISPOSISI_*`` variables with ``config`` (keys without prefix) on top;
    the settings are flat keys of ``app.config`` (``app.config["DATABASE_URL"]``).

    ``config`` may also carry ``MODEL``, an already loaded ``RoutingModel`` (tests, and the model
    the gunicorn master preloaded for its workers: ``service.preload``), with ``MODEL_FROM``, the
    directory it was loaded from; with ``MODELS_DIR`` the app still follows ``current`` from there.
    ``store`` hands in the feedback store (``service.store.FeedbackStore``); by default one is opened on
    ``DATABASE_URL``, which must be upgraded first (``service.db.upgrade``, ``disposisi db upgrade``):
    creating an app never migrates. The model watcher starts with ``app.extensions["disposisi"].start()``
    (gunicorn's ``post_worker_init``); ``.close()`` stops it and closes the store, as does the app's
    garbage collection or the interpreter's exit.
    """
    from .api import health, mlflow, v1
    from .audit_api import audit_v1
    from .complaints_api import complaints_v1
    from .desk import init_desk
    from .desk.monev_views import monev_pages
    from .errors import register_error_handlers
    from .monev_api import monev_v1
    from .region_api import region_v1
    from .state import ServiceState

    app = Flask(__name__)
    load_config(config, into=app.config)
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    state = ServiceState(app.config, store)
    app.config.pop("MODEL", None)  # the model lives in the state (and is swapped there on reload)
    app.extensions["disposisi"] = state
    weakref.finalize(app, state.close)
    register_error_handlers(app)
    app.register_blueprint(v1)
    app.register_blueprint(health)
    app.register_blueprint(mlflow)
    app.register_blueprint(complaints_v1)
    app.register_blueprint(audit_v1)
    app.register_blueprint(region_v1)
    app.register_blueprint(monev_v1)
    # the JSON API authenticates by bearer token, not cookie
    init_desk(app, exempt=[v1, health, mlflow, complaints_v1, audit_v1, region_v1, monev_v1])
    app.register_blueprint(monev_pages)
    return app
