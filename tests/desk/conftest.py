"""Fixtures for the desk tests: the app on a temporary SQLite store with the demo model, admin and viewer tokens."""

from __future__ import annotations

import pytest
from desk_helpers import ADMIN, VIEWER


@pytest.fixture()
def desk_app(demo_model, demo_model_dir, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    upgrade(default_sqlite_url(tmp_path / "var"))  # creating an app never migrates
    app = create_app(
        {
            "MODEL": demo_model,
            "MODEL_DIR": str(demo_model_dir),
            "DATA_DIR": str(tmp_path / "var"),
            "ADMIN_TOKENS": ADMIN,
            "VIEWER_TOKENS": VIEWER,
            "MAX_CONTENT_LENGTH": 256 * 1024,
            "MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
        }
    )
    yield app
    app.extensions["disposisi"].close()


@pytest.fixture()
def client(desk_app):
    return desk_app.test_client()


@pytest.fixture()
def store(desk_app):
    return desk_app.extensions["disposisi"].complaints
