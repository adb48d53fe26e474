"""gunicorn's documented "custom application" for the service: options come from
``disposisi serve``; the master preloads the model (``service.preload``) and ``load`` builds
the Flask app around it inside each worker process."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .preload import PreloadedModel, freeze_before_fork


class GunicornApp(BaseApplication):
    def __init__(self, overrides: dict, options: dict, preloaded: PreloadedModel):
        self.overrides = overrides
        self.preloaded = preloaded
        self.learning = None  # the learning schedule, in the master only (start_learning)
        self.options = {
            **options,
            "pre_fork": freeze_pre_fork,
            "post_worker_init": start_worker_app,
            "worker_exit": close_worker_app,
            "when_ready": start_learning,
            "on_exit": stop_learning,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """In a worker, after the fork: its own app (database pool) on the shared model; its model watcher
        starts in ``post_worker_init``."""
        from . import create_app

        return create_app({**self.overrides, **self.preloaded.app_config()})

    def reload(self) -> None:
        """gunicorn reload (HUP on the master): new workers start on the model ``current`` names now."""
        super().reload()
        self.preloaded.refresh()


def freeze_pre_fork(server, worker) -> None:
    """gunicorn ``pre_fork`` hook, in the master: freeze the GC so the worker shares its pages."""
    freeze_before_fork()


def one_request_per_connection(worker, req) -> None:
    """gunicorn ``pre_request`` hook: close the connection after this response.

    A gevent worker accepts whenever it is not computing, so two keep-alive connections opened
    together can both land on one worker (measured: 10 of 30 pairs) and share one core while the
    other idles. Closing after each response makes every request a new accept, which only an idle
    worker can make: the balance of gunicorn's sync workers (which never keep a connection alive
    either), while a silent or half-sent request still parks only a greenlet.
    """
    req.must_close = True


def _worker_state(worker):
    return getattr(getattr(worker, "wsgi", None), "extensions", {}).get("disposisi")


def start_worker_app(worker) -> None:
    """gunicorn ``post_worker_init`` hook: the worker's app is built; start its model watcher."""
    state = _worker_state(worker)
    if state is not None:
        state.start()


def close_worker_app(server, worker) -> None:
    """gunicorn hook: a stopping worker stops its model watcher and closes its database pool."""
    state = _worker_state(worker)
    if state is not None:
        state.close()


def start_learning(server) -> None:
    """gunicorn ``when_ready`` hook, in the master, once: recover interrupted jobs and start the learning
    schedule (service/learn_schedule.py). Never in a worker, so a deployment schedules each job once."""
    import logging

    from .config import load_config
    from .learning import start_schedule

    app = server.app
    if getattr(app, "learning", None) is not None:  # already running (a reload keeps it)
        return
    cfg = load_config(app.overrides)
    if str(cfg["LEARN_SCHEDULE"]).strip().lower() in {"0", "false", "no", "off"}:
        return
    try:
        app.learning = start_schedule(cfg)
    except Exception:  # noqa: BLE001 - serving goes on without the schedule; the log says why
        logging.getLogger(__name__).exception("learning schedule not started")


def stop_learning(server) -> None:
    """gunicorn ``on_exit`` hook, in the master: stop the schedule (a running job is marked interrupted on the
    next start)."""
    learning = getattr(server.app, "learning", None)
    if learning is not None:
        learning.stop()
        server.app.learning = None
