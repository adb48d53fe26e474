"""An inbox model served as any other: `/v1/suggest` answers with instances and the place words."""

from __future__ import annotations

import pytest

from routing_model.artifact import persistence
from routing_model.registry.inbox import build_inbox_registry
from training.adapt import adapt_model


@pytest.fixture()
def inbox_client(demo_model, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    model_dir = tmp_path / "inbox"
    persistence.save(adapt_model(demo_model, build_inbox_registry("Jawa Tengah").registry), model_dir)
    upgrade(default_sqlite_url(tmp_path / "var"))
    app = create_app(
        {"MODEL": persistence.load_served(model_dir), "MODEL_DIR": str(model_dir), "DATA_DIR": str(tmp_path / "var")}
    )
    yield app.test_client()
    app.extensions["disposisi"].close()


def test_suggest_with_an_inbox_model_names_the_instance_and_its_place(inbox_client):
    resp = inbox_client.post("/v1/suggest", json={"text": "Banjir rob di Kecamatan Pekalongan Utara tidak ditangani"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["suggestions"][0]["agency"] == "Pemerintah Kota Pekalongan"
    assert "kecamatan pekalongan utara" in body["reasons"]
    assert body["outside_region"] is None
