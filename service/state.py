"""What a running service holds: the model (hot-reloadable), the feedback, complaint and account stores, the clock.

One ``ServiceState`` per app, in ``app.extensions["disposisi"]``; nothing lives in module globals. It serves either
one model (``serve --model``/``--models-dir``: the deployment's own region, slug ``""``) or a deployment of regions
(``serve`` with neither: every active row of ``regions``, each region's model loaded on first use from
``DATA_DIR/regions/<slug>/models/current`` and followed like the one model is).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from flask import current_app

from routing_model import ModelLoadError, RoutingModel
from routing_model.artifact import persistence
from routing_model.artifact.bases import Bases
from routing_model.artifact.store import ModelStoreError, current_model_dir
from routing_model.model.live_guard import WINDOW_DAYS, withdrawn_agencies

from .accounts import AccountStore, slug
from .bases import bases_dir
from .clock import Clock
from .complaints import ComplaintStore
from .regions import RegionRow, RegionStore, models_dir
from .store import FeedbackStore

log = logging.getLogger(__name__)


class Watcher:
    """A daemon thread that calls ``check`` at once and then every ``interval`` seconds until stopped; an error is
    logged, never fatal. Started once the app serves (gunicorn's ``post_worker_init``), so a forked worker starts its own."""

    def __init__(self, check: Callable[[], object], interval: float, name: str):
        self.check, self.interval, self.name = check, interval, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:  # a check as soon as it starts (a worker forked long after the master loaded), then each interval
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watcher must never die
                log.exception("%s: check failed", self.name)
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class ModelHolder:
    """The model being served. ``.model`` is swapped atomically after a new one is fully loaded.

    A request takes ``holder.model`` once into a local variable and uses that object throughout,
    so a swap in the middle of a request never mixes two models.
    """

    def __init__(
        self,
        model_dir=None,
        models_dir=None,
        model: RoutingModel | None = None,
        interval: float = 1.0,
        load: Callable[[Path], RoutingModel] = persistence.load_served,
    ):
        self.models_dir = Path(models_dir) if models_dir else None
        self.interval = interval
        self._load = load  # a region's head loads on the deployment's shared bases
        self._watcher = Watcher(self.check_reload, interval, "disposisi-model-reload")
        self.last_error: str | None = None
        self._failed_target: Path | None = None
        if model is not None:  # preloaded (gunicorn master, tests)
            self.model, self.model_dir = model, Path(model_dir) if model_dir else None
            self.check_reload()  # a worker forked after a promotion must not serve the master's older model
        elif self.models_dir is not None:
            target = current_model_dir(self.models_dir)
            self.model, self.model_dir = self._load(target), target
        else:
            self.model, self.model_dir = self._load(model_dir), Path(model_dir).resolve()
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
            model = self._load(target)
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
        if self.models_dir is not None:
            self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()


class RegionNotServed(LookupError):
    """No active region of this deployment has that slug."""


class RegionModels:
    """The models of a deployment's regions: each loaded when first asked for (only for the slug of an active row of
    ``regions``; the path is DATA_DIR's, never a request's), kept while recently used, and switched when its
    ``current`` moves, by the same ``ModelHolder.check_reload`` the one-model service uses, from one watcher thread.

    At most ``kept`` regions stay loaded: the least recently asked is dropped when another is loaded (a request
    holds its model itself, so dropping never disturbs one). A region's head is small and its base is mapped once
    per process, so loading one again costs tens of milliseconds; a worker's memory stays bounded however many
    regions the deployment serves."""

    def __init__(
        self, data_dir, regions: RegionStore, interval: float = 1.0, kept: int = 128, bases: Bases | None = None
    ):
        self.data_dir = Path(data_dir)
        self.regions = regions
        self.interval = interval
        self.kept = kept
        # every region's head maps the same verified base arrays, once per process (``bases``: opened by the master
        # before it forked, so the workers share them too)
        self.bases = bases if bases is not None else Bases()
        self._load = partial(persistence.load_served, bases=bases_dir(self.data_dir), opened=self.bases)
        self._holders: OrderedDict[str, ModelHolder] = OrderedDict()  # least recently asked first
        self._lock = threading.Lock()
        self._watcher = Watcher(self.check_reload, interval, "disposisi-region-reload")

    def holder(self, slug: str) -> ModelHolder:
        """The holder of an active region's model (loaded now if no recent request needed it)."""
        with self._lock:
            found = self._holders.get(slug)
            if found is not None:
                self._holders.move_to_end(slug)
                return found
            row = self.regions.get(slug)
            if row is None or row.status != "active":
                raise RegionNotServed(slug)
            found = ModelHolder(models_dir=models_dir(self.data_dir, slug), interval=self.interval, load=self._load)
            self._holders[slug] = found
            while len(self._holders) > self.kept:
                self._holders.popitem(last=False)
        return found

    def model(self, slug: str) -> RoutingModel:
        return self.holder(slug).model

    def loaded(self) -> dict[str, ModelHolder]:
        with self._lock:
            return dict(self._holders)

    def check_reload(self) -> int:
        """Follow every loaded region's ``current``; how many switched."""
        return sum(holder.check_reload() for holder in self.loaded().values())

    def start(self) -> None:
        self._watcher.start()

    def stop(self) -> None:
        self._watcher.stop()


class ServiceState:
    """The app's model, stores and clock. ``store`` hands in a feedback store (a test's PostgreSQL store, a
    fake); by default one is opened on ``DATABASE_URL``, which must be at the newest schema revision
    (``SchemaNotCurrent`` otherwise). A handed-in store brings its clock. Nothing runs in the background
    until ``start()``; ``close()`` stops it and closes the store."""

    def __init__(self, config, store: FeedbackStore | None = None):
        self.config = config
        self.clock = store.clock if store is not None else config.get("CLOCK") or Clock()
        self.store = store if store is not None else FeedbackStore(config["DATABASE_URL"], clock=self.clock)
        self.regions = RegionStore(self.store)
        self.deployment = not any(config.get(k) for k in ("MODEL", "MODEL_FROM", "MODEL_DIR", "MODELS_DIR"))
        self.models: ModelHolder | None = None
        self.region_models: RegionModels | None = None
        try:
            if self.deployment:
                self.region_models = RegionModels(
                    config["DATA_DIR"],
                    self.regions,
                    config["RELOAD_INTERVAL"],
                    config["REGION_MODELS_KEPT"],
                    config.get("BASES"),
                )
            else:
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
        self._guard: dict[str, tuple[float, dict[str, dict]]] = {}  # region -> (monotonic time, live guard verdict)
        if not config["ADMIN_TOKEN_HASHES"]:
            log.info(
                "no admin tokens configured (DISPOSISI_ADMIN_TOKENS / DISPOSISI_ADMIN_TOKEN_HASHES): "
                "only accounts (disposisi account create) may decide"
            )

    @property
    def model(self) -> RoutingModel:
        """The model of the default region (the one model of ``serve --model``, or a one-region deployment's)."""
        default = self.default_region()
        if default is None:
            raise RegionNotServed("this deployment serves several regions: name one")
        return self.model_for(default)

    # -- regions ------------------------------------------------------------------------------
    def model_for(self, region: str) -> RoutingModel:
        """The model of a served region (``""``: the one model of ``serve --model``); RegionNotServed otherwise."""
        if self.models is not None:
            if region != "":
                raise RegionNotServed(region)
            return self.models.model
        return self.region_models.model(region)

    def served_regions(self) -> list[RegionRow]:
        """The regions served here: the active rows of a deployment; for ``serve --model`` its one region ``""``."""
        if self.models is None:
            return self.regions.active()
        region = self.models.model.registry.region
        now = self.clock.now()
        return [
            RegionRow(
                "",
                region.name if region else "",
                slug(region.province) if region else None,
                "region",
                "active",
                None,
                None,
                now,
                now,
            )
        ]

    def model_version(self, region: str) -> str | None:
        """The version a region serves, without loading a model no request has needed yet (its card says)."""
        if self.models is not None:
            return self.models.model.version
        holder = self.region_models.loaded().get(region)
        if holder is not None:
            return holder.model.version
        try:
            return persistence.read_card(current_model_dir(models_dir(self.config["DATA_DIR"], region))).get("version")
        except (ModelLoadError, ModelStoreError):
            return None

    def served_region(self, region: str) -> RegionRow | None:
        """The served region with this slug (one row read, not the whole list), or None."""
        if self.models is not None:
            return self.served_regions()[0] if region == "" else None
        row = self.regions.get(region)
        return row if row is not None and row.status == "active" else None

    def served(self) -> dict[str, str]:
        """slug -> name of the regions a complaint may be moved to (none for ``serve --model``: it has one)."""
        return {} if self.models is not None else {r.slug: r.name for r in self.regions.active()}

    def default_region(self) -> str | None:
        """The region the routes without a slug mean: ``""`` for ``serve --model``, the only region of a
        one-region deployment; None when the deployment serves several (or none)."""
        if self.models is not None:
            return ""
        active = self.regions.list(status="active", limit=2)
        return active[0].slug if len(active) == 1 else None

    def start(self) -> None:
        """Start following ``MODELS_DIR/current`` (a thread; one for all regions of a deployment); called once the
        app serves (gunicorn's ``post_worker_init``), never on construction, so a forked worker starts its own."""
        if self.models is not None:
            self.models.start()
        else:
            self.region_models.start()

    def withdrawn(self, region: str = "") -> dict[str, dict]:
        """The live guard's verdict for a region's model (agencies whose recent auto-suggestions admins corrected
        too often), recomputed from the feedback store at most every LIVE_GUARD_REFRESH seconds."""
        now = time.monotonic()
        cached = self._guard.get(region)
        if cached is not None and now - cached[0] < self.config["LIVE_GUARD_REFRESH"]:
            return cached[1]
        at = self.clock.now()
        try:  # ``serve --model``: all feedback is its model's, as before regions
            outcomes = self.store.auto_outcomes(
                at - timedelta(days=WINDOW_DAYS), region=None if self.models is not None else region
            )
            verdict = withdrawn_agencies(outcomes, at, self.model_for(region).target_precision)
        except RegionNotServed:
            return {}
        except Exception:  # noqa: BLE001 - a database hiccup must not stop suggestions
            log.exception("live guard: feedback not readable; keeping the last verdict")
            return cached[1] if cached else {}
        self._guard[region] = (now, verdict)
        return verdict

    def close(self) -> None:
        """Stop the model watchers and dispose of the database pool (idempotent)."""
        if self.models is not None:
            self.models.stop()
        if self.region_models is not None:
            self.region_models.stop()
        self.store.close()


def current_state() -> ServiceState:
    """The state of the app handling the current request."""
    return current_app.extensions["disposisi"]
