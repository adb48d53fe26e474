"""What the gunicorn master builds once, before it forks, for every worker to share.

A forked worker shares the master's memory pages copy-on-write until one of them writes to a
page. So ``disposisi serve`` builds the heavy, read-only part of serving here, in the master:
the modules a worker's app imports (Flask, scikit-learn, skops, ...), the model, and the
per-process tables a first suggestion builds (Sastrawi's dictionary, the fast stemmer, the
national gazetteer of ``routing_model.places.elsewhere``). Just before each fork ``freeze_before_fork``
collects and then freezes the garbage collector (``gc.freeze``, as the Python documentation
advises for pre-fork servers): a worker's collections then skip every inherited object, and do
not write to, hence copy, the pages those objects live on.

What holds a thread, a socket or a connection pool is still built by each worker after the
fork (``create_app`` there: database pool; the model watcher from ``post_worker_init``).
The preloaded model is only where a worker starts: its ``ModelHolder`` follows
``MODELS_DIR/current`` exactly as before and loads a newly promoted model on its own (that copy
is the worker's, not shared). A gunicorn reload (``kill -HUP`` on the master) calls
``refresh``, so the replacement workers share the new model.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from routing_model import ModelLoadError, RoutingModel
from routing_model.artifact import persistence
from routing_model.artifact.bases import Bases
from routing_model.artifact.store import ModelStoreError, current_model_dir

log = logging.getLogger(__name__)

# Texts that take a first suggestion through every lazily built table: places of the region,
# a place of another region (the national gazetteer), words to stem (Sastrawi's dictionary).
WARM_UP_TEXTS = (
    "Jalan di Desa Jelekong Kecamatan Baleendah rusak parah dan berlubang, mohon segera diperbaiki",
    "Lampu penerangan jalan di Kelurahan Baqa Kecamatan Samarinda Seberang Kota Samarinda mati sejak seminggu",
)


def serving_dir(cfg: dict) -> Path:
    """The model directory the configuration serves: ``MODELS_DIR``'s current, else ``MODEL_DIR``."""
    if cfg.get("MODELS_DIR"):
        return current_model_dir(cfg["MODELS_DIR"])
    return Path(cfg["MODEL_DIR"]).resolve()


def import_app_modules() -> None:
    """Import what ``create_app`` imports (Flask, the blueprints, the desk), once for all workers."""
    from . import api, complaints_api, desk, errors, region_api, state  # noqa: F401


def warm_up(model: RoutingModel) -> None:
    """Build the per-process tables a first suggestion needs, here rather than in every worker."""
    model.suggest(list(WARM_UP_TEXTS))


def freeze_before_fork() -> None:
    """Collect, then freeze every object the master holds, so no worker's GC touches them."""
    gc.collect()
    gc.freeze()


def open_deployment(data_dir: str | Path) -> Bases:
    """A deployment's bases (every ``DATA_DIR/bases/<digest>/``), verified and mapped, with the per-process tables
    warmed up by one region's model (any region served: the tables are the same for all). Opened in the master,
    the bases' vocabularies and word lists are built once and shared by every worker; a deployment without a base
    or a region yet gives what there is (workers open the rest as they need it)."""
    from routing_model.artifact.bases import BASE_FILE, open_base

    bases = Bases()
    root = Path(data_dir) / "bases"
    for path in sorted(root.iterdir()) if root.is_dir() else ():
        if path.name.startswith(".") or not (path / BASE_FILE).is_file():
            continue
        try:
            bases.get(path, open_base(path).digest)
        except ModelLoadError as exc:  # a worker refuses the heads on it with the same message
            log.error("master did not open base %s: %s", path.name, exc)
    for current in sorted(Path(data_dir).glob("regions/*/models/current")):
        try:
            warm_up(persistence.load_served(current.resolve(), bases=root, opened=bases))
            break
        except (ModelLoadError, OSError) as exc:
            log.error("master could not warm up with %s: %s", current, exc)
    return bases


class PreloadedModel:
    """The model every worker starts with, loaded (and warmed up) once in the gunicorn master; for a deployment of
    regions, its bases (``open_deployment``)."""

    def __init__(self, cfg: dict) -> None:
        self.models_dir = cfg.get("MODELS_DIR")
        self.model_dir: Path | None = None
        self.model: RoutingModel | None = None  # None: a deployment of regions, each loaded by a worker when used
        self.bases: Bases | None = None
        if cfg.get("MODEL_DIR") or self.models_dir:
            self.model_dir = serving_dir(cfg)
            self.model = persistence.load_served(self.model_dir)
        import_app_modules()
        if self.model is not None:
            warm_up(self.model)
        else:
            self.bases = open_deployment(cfg["DATA_DIR"])

    def app_config(self) -> dict:
        """``create_app`` keys that hand this model (or the deployment's opened bases) to a worker's app (which still
        follows ``current``)."""
        if self.model is None:
            return {"BASES": self.bases}
        return {"MODEL": self.model, "MODEL_FROM": str(self.model_dir)}

    def refresh(self) -> bool:
        """Load ``current`` if it moved since; True if switched. A model that fails to load is
        logged and the old one kept: the workers' own watchers report it too."""
        if not self.models_dir:
            return False
        try:
            target = current_model_dir(self.models_dir)
            if target == self.model_dir:
                return False
            model = persistence.load_served(target)
        except (ModelStoreError, ModelLoadError) as exc:
            log.error("master keeps model %s for new workers: %s", self.model.version, exc)
            return False
        warm_up(model)
        self.model, self.model_dir = model, target
        gc.unfreeze()  # the old model's objects were frozen: let the next collection free them
        log.info("master preloaded model %s for new workers", model.version)
        return True
