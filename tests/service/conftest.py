"""Fixtures for the service tests: an app on a temp SQLite store with the demo model, and a real
`disposisi serve` of the demo model on loopback."""

from __future__ import annotations

import hashlib

import pytest
from svc_helpers import ADMIN_TOKEN, HASHED_TOKEN, Server


@pytest.fixture()
def app(demo_model, demo_model_dir, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    upgrade(default_sqlite_url(tmp_path / "var"))  # creating an app never migrates
    app = create_app(
        {
            "MODEL": demo_model,
            "MODEL_DIR": str(demo_model_dir),
            "DATA_DIR": str(tmp_path / "var"),
            "ADMIN_TOKENS": ADMIN_TOKEN,
            "ADMIN_TOKEN_HASHES": hashlib.sha256(HASHED_TOKEN.encode()).hexdigest(),
            "MAX_CONTENT_LENGTH": 256 * 1024,
            "MAX_BATCH": 50,
        }
    )
    yield app
    app.extensions["disposisi"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def demo_server(demo_model_dir, tmp_path):
    """A real `disposisi serve --model <demo model>` (two workers), ready; stopped afterwards."""
    srv = Server(
        ["--model", str(demo_model_dir)], {"DISPOSISI_DATA_DIR": str(tmp_path / "var")}, tmp_path / "server.log"
    )
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def deployment_template(demo_model_dir, tmp_path_factory):
    """(data dir, account -> token): a deployment of Kabupaten Bandung and Kota Samarinda on the demo model, built
    once per session; tests copy it (``deployment``)."""
    from region_helpers import build_deployment

    data_dir = tmp_path_factory.mktemp("deployment") / "var"
    tokens = build_deployment(demo_model_dir, data_dir)
    return data_dir, tokens


@pytest.fixture()
def deployment(deployment_template, tmp_path):
    """A private copy of the two-region deployment: (data dir, account -> token)."""
    from region_helpers import copy_deployment

    template, tokens = deployment_template
    return copy_deployment(template, tmp_path / "var"), tokens


@pytest.fixture()
def deployment_app(deployment):
    """The app serving the two-region deployment (``serve`` without --model), environment tokens as bootstrap."""
    from region_helpers import ENV_ADMIN, ENV_VIEWER

    from service import create_app

    data_dir, _ = deployment
    app = create_app(
        {
            "DEPLOYMENT": True,
            "DATA_DIR": str(data_dir),
            "ADMIN_TOKENS": ENV_ADMIN,
            "VIEWER_TOKENS": ENV_VIEWER,
            "SECRET_KEY": "regions-test",
        }
    )
    yield app
    app.extensions["disposisi"].close()
