"""The app starts no thread when it is created; the model watcher runs from ``start()`` until ``close()``."""

from __future__ import annotations

import threading

from svc_helpers import two_versions

WATCHER = "disposisi-model-reload"


def watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WATCHER]


def test_the_model_watcher_starts_with_start_and_stops_with_close(demo_model_dir, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    models, _, _ = two_versions(demo_model_dir, tmp_path)
    upgrade(default_sqlite_url(tmp_path / "var"))
    assert watchers() == []  # no earlier test left one running
    app = create_app({"MODELS_DIR": str(models), "DATA_DIR": str(tmp_path / "var"), "RELOAD_INTERVAL": 0.05})
    state = app.extensions["disposisi"]
    try:
        assert watchers() == []  # creating an app starts nothing
        state.start()
        assert len(watchers()) == 1 and watchers()[0].is_alive()
    finally:
        state.close()
    assert watchers() == []
    state.close()  # idempotent
