"""`disposisi serve`: the HTTP service for admins, under waitress (see docs/service.md)."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve suggestions and collect admins' feedback over HTTP (waitress)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="model directory to serve (default: $DISPOSISI_MODEL_DIR)")
    src.add_argument("--models-dir", help="models directory; serve its 'current' model and follow it when it is repointed "
                     "(default: $DISPOSISI_MODELS_DIR)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--threads", type=int, default=4, help="waitress worker threads (default 4)")
    p.set_defaults(func=run)


def run(args) -> int:
    from waitress import serve

    from commands.main import UserError
    from routing_model.model_store import ModelStoreError
    from service import ConfigError, create_app
    from service.store import StoreError

    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step is noise here
    overrides = {}
    if args.model:
        overrides.update(MODEL_DIR=args.model, MODELS_DIR=None)
    elif args.models_dir:
        overrides.update(MODELS_DIR=args.models_dir, MODEL_DIR=None)
    if args.threads < 1:
        raise UserError("--threads must be at least 1")
    try:
        app = create_app(overrides)
    except (ConfigError, ModelStoreError, StoreError) as exc:
        raise UserError(str(exc)) from exc
    state = app.extensions["disposisi"]
    cfg = app.config["DISPOSISI"]
    print(f"disposisi serve: model {state.model.version} on http://{args.host}:{args.port} "
          f"({args.threads} threads, feedback in {_safe(cfg['DATABASE_URL'])})", flush=True)
    try:
        serve(
            app,
            host=args.host,
            port=args.port,
            threads=args.threads,
            ident="disposisi",
            # Flask answers 413 (JSON) past MAX_CONTENT_LENGTH; waitress buffers a body before the app
            # sees it, so it stops far larger ones itself (plain-text 413) instead of spooling 1 GB
            max_request_body_size=max(8 * cfg["MAX_CONTENT_LENGTH"], 16 * 1024 * 1024),
            connection_limit=200,
            channel_timeout=60,
        )
    finally:
        state.close()
    return 0


def _safe(url: str) -> str:
    from service.store import safe_url

    return safe_url(url)
