"""`disposisi serve`: the HTTP service for admins, under gunicorn (see docs/service.md).

Suggesting is CPU-bound Python, so one process uses one core whatever its thread count.
gunicorn's pre-fork model runs one worker process per core (``--workers``). Each worker is
gunicorn's gevent worker: every connection is a greenlet, so a client that connects and sends
nothing, or half a request, parks one greenlet and costs no worker; the worker keeps answering
the others (a plain synchronous worker would wait on that socket until gunicorn's timeout
killed it). A request head must arrive within ``KEEPALIVE`` seconds, else the connection is
closed; a worker holds at most ``WORKER_CONNECTIONS`` connections. The suggestion itself still
runs to completion without yielding, so the CPU is shared exactly as with sync workers.
Before any worker starts, this process (gunicorn's master) checks the configuration, loads
and verifies the model and upgrades the feedback database once (``disposisi db upgrade``), so a bad setting is one clear
error, not every worker failing to boot. The model, the modules and the read-only tables it
loads here are shared copy-on-write by the forked workers (``service.preload``); each worker
still builds its own app after the fork: its own hot-reload watcher and database connections.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.preload import PreloadedModel

log = logging.getLogger(__name__)

MAX_DEFAULT_WORKERS = 8  # each worker's own pages (and a promoted model) cost memory; more rarely pay
WORKER_CLASSES = ("gevent", "sync")
KEEPALIVE = 10  # seconds to receive a request head (the first or the next on a kept-alive connection)
WORKER_CONNECTIONS = 1000  # open connections per gevent worker; more wait in the listen backlog


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve suggestions and collect admins' feedback over HTTP (gunicorn)")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--model",
        help="model directory to serve (default: $DISPOSISI_MODEL_DIR); without it or --models-dir, serve every "
        "region of the deployment in $DISPOSISI_DATA_DIR (`disposisi region add`)",
    )
    src.add_argument(
        "--models-dir",
        help="models directory; serve its 'current' model and follow it when it is repointed "
        "(default: $DISPOSISI_MODELS_DIR)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=int, default=8080, help="TCP port to listen on (default 8080)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"worker processes, sharing the model the server loaded before starting them (default: one per core, at most {MAX_DEFAULT_WORKERS})",
    )
    p.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        default="gevent",
        help="gunicorn worker: gevent (default: idle or slow clients cannot block a worker) or sync "
        "(one connection at a time per worker: only behind a buffering proxy such as nginx)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from routing_model import ModelLoadError
    from routing_model.artifact.store import ModelStoreError
    from service import ConfigError
    from service.cli.common import UserError
    from service.db import StoreError

    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise UserError("--workers must be at least 1")
    overrides: dict = {"DEPLOYMENT": True}  # unless a model is named, here or in DISPOSISI_MODEL(S)_DIR
    if args.model:
        overrides.update(MODEL_DIR=args.model, MODELS_DIR=None)
    elif args.models_dir:
        overrides.update(MODELS_DIR=args.models_dir, MODEL_DIR=None)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step is noise here
    try:
        cfg, preloaded = _prepare(overrides)
    except (ConfigError, ModelStoreError, ModelLoadError, StoreError) as exc:
        raise UserError(str(exc)) from exc
    what = f"model {preloaded.model.version}" if preloaded.model is not None else _deployment(cfg)
    print(
        f"disposisi serve: {what} on http://{args.host}:{args.port} "
        f"({workers} {args.worker_class} workers, feedback in {_safe(cfg['DATABASE_URL'])})",
        flush=True,
    )
    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": workers,
        "worker_class": args.worker_class,
        "worker_connections": WORKER_CONNECTIONS,
        "keepalive": KEEPALIVE,
        "timeout": 120,  # a worker silent this long is restarted; a 1,000-text batch takes a few seconds
        "graceful_timeout": 30,
        "proc_name": "disposisi",
        "errorlog": "-",
        "loglevel": "info",
    }
    from service.server import GunicornApp, one_request_per_connection

    if args.worker_class == "gevent" and workers > 1:
        options["pre_request"] = one_request_per_connection
    GunicornApp(overrides, options, preloaded).run()
    return 0


def _prepare(overrides: dict) -> tuple[dict, PreloadedModel]:
    """Configuration checked, the model loaded once for every worker, the database upgraded."""
    from service.config import load_config
    from service.db import upgrade
    from service.preload import PreloadedModel

    cfg = load_config(overrides)
    preloaded = PreloadedModel(cfg)
    upgrade(cfg["DATABASE_URL"])  # once, here: workers refuse a database that is not at the newest revision
    return cfg, preloaded


def _deployment(cfg: dict) -> str:
    """What a `serve` without --model serves: the active regions of DATA_DIR's deployment."""
    from service.regions import RegionStore
    from service.store import FeedbackStore

    store = FeedbackStore(cfg["DATABASE_URL"], clock=cfg.get("CLOCK"))
    try:
        slugs = [r.slug for r in RegionStore(store).active()]
    finally:
        store.close()
    return f"the deployment in {cfg['DATA_DIR']} ({len(slugs)} regions: {', '.join(slugs) or 'none yet'})"


def _safe(url: str) -> str:
    from service.db import safe_url

    return safe_url(url)
