"""What a running service holds: the model (hot-reloadable), the feedback, complaint and account stores, the clock.

One ``ServiceState`` per app, in ``app.extensions["disposisi"]``; nothing lives in module globals.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app

from routing_model import ModelLoadError, RoutingModel
from routing_model.artifact import persistence
from routing_model.artifact.store import ModelStoreError, current_model_dir
from routing_model.model.live_guard import WINDOW_DAYS, withdrawn_agencies

from .accounts import AccountStore
from .clock import Clock
from .complaints import ComplaintStore
from .store import FeedbackStore

log = logging.getLogger(__name__)


class ModelHolder:
    """The model being served. ``.model`` is swapped atomically after a new one is fully loaded.

    A request takes ``holder.model`` once into a local variable and uses that object throughout,
    so a swap in the middle of a request never mixes two models.
    """

    def __init__(self, model_dir=None, models_dir=None, model: RoutingModel | None = None, interval: float = 1.0):
        self.models_dir = Path(models_dir) if models_dir else None
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._failed_target: Path | None = None
        if model is not None:  # preloaded (gunicorn master, tests)
            self.model, self.model_dir = model, Path(model_dir) if model_dir else None
            self.check_reload()  # a worker forked after a promotion must not serve the master's older model
        elif self.models_dir is not None:
            target = current_model_dir(self.models_dir)
            self.model, self.model_dir = persistence.load_served(target), target
        else:
            self.model, self.model_dir = persistence.load_served(model_dir), Path(model_dir).resolve()
        log.info("serving model %s from %s", self.model.version, self.model_dir)

    # -- hot reload ---------------------------------------------------------------------
    def check_reload(self) -> bool:
        """Load and switch to the model ``current`` points to if it changed; True if switched."""
        if self.models_dir is None:
            return False
        try:
            target = current_model_dir(self.models_dir)
        except ModelStoreError as exc:
            self._note_error(str(exc))
            return False
        if target == self.model_dir or target == self._failed_target:
            return False
        try:
            model = persistence.load_served(target)
        except ModelLoadError as exc:
            # keep serving the old model; try again only when the pointer moves
            self._failed_target = target
            self._note_error(f"not switching to {target}: {exc}")
            return False
        old = self.model.version
        self.model, self.model_dir = model, target  # one reference assignment: atomic
        self._failed_target, self.last_error = None, None
        log.info("switched model %s -> %s (%s)", old, model.version, target)
        return True

    def _note_error(self, message: str) -> None:
        if message != self.last_error:
            log.error("%s", message)
        self.last_error = message

    def start(self) -> None:
        if self.models_dir is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="disposisi-model-reload", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_reload()
            except Exception:  # noqa: BLE001 - the watcher must never die
                log.exception("model reload check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class ServiceState:
    """The app's model, stores and clock. ``store`` hands in a feedback store (a test's PostgreSQL store, a
    fake); by default one is opened on ``DATABASE_URL``, which must be at the newest schema revision
    (``SchemaNotCurrent`` otherwise). A handed-in store brings its clock. Nothing runs in the background
    until ``start()``; ``close()`` stops it and closes the store."""

    def __init__(self, config, store: FeedbackStore | None = None):
        self.config = config
        self.clock = store.clock if store is not None else config.get("CLOCK") or Clock()
        self.store = store if store is not None else FeedbackStore(config["DATABASE_URL"], clock=self.clock)
        try:
            self.models = ModelHolder(
                model_dir=config.get("MODEL_FROM") or config.get("MODEL_DIR"),
                models_dir=config.get("MODELS_DIR"),
                model=config.get("MODEL"),
                interval=config["RELOAD_INTERVAL"],
            )
        except Exception:
            self.store.close()
            raise
        self.complaints = ComplaintStore(self.store)
        self.accounts = AccountStore(self.store)
        self._guard: tuple[float, dict[str, dict]] | None = None  # (monotonic time, live guard verdict)
        if not config["ADMIN_TOKEN_HASHES"]:
            log.info(
                "no admin tokens configured (DISPOSISI_ADMIN_TOKENS / DISPOSISI_ADMIN_TOKEN_HASHES): "
                "only accounts (disposisi account create) may decide"
            )

    @property
    def model(self) -> RoutingModel:
        return self.models.model

    def start(self) -> None:
        """Start following ``MODELS_DIR/current`` (a thread); called once the app serves (gunicorn's
        ``post_worker_init``), never on construction, so a forked worker starts its own."""
        self.models.start()

    def withdrawn(self) -> dict[str, dict]:
        """The live guard's verdict (agencies whose recent auto-suggestions admins corrected too
        often), recomputed from the feedback store at most every LIVE_GUARD_REFRESH seconds."""
        now = time.monotonic()
        cached = self._guard
        if cached is not None and now - cached[0] < self.config["LIVE_GUARD_REFRESH"]:
            return cached[1]
        at = self.clock.now()
        try:
            outcomes = self.store.auto_outcomes(at - timedelta(days=WINDOW_DAYS))
        except Exception:  # noqa: BLE001 - a database hiccup must not stop suggestions
            log.exception("live guard: feedback not readable; keeping the last verdict")
            return cached[1] if cached else {}
        verdict = withdrawn_agencies(outcomes, at, self.model.target_precision)
        self._guard = (now, verdict)
        return verdict

    def close(self) -> None:
        """Stop the model watcher and dispose of the database pool (idempotent)."""
        self.models.stop()
        self.store.close()


def current_state() -> ServiceState:
    """The state of the app handling the current request."""
    return current_app.extensions["disposisi"]
