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
        self.options = {
            **options,
            "pre_fork": freeze_pre_fork,
            "post_worker_init": start_worker_app,
            "worker_exit": close_worker_app,
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
