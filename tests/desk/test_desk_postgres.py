"""The desk on PostgreSQL: the same import, queue, decision, undo and export as on SQLite.

The test opens the PostgreSQL store itself and hands it to the app (``create_app(config, store=)``)."""

from __future__ import annotations

import io

import pandas as pd
from desk_helpers import ADMIN, ADMIN_AUTH, LONG_AGO, complaint_items, test_clock
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)


def test_desk_on_postgres(postgres_url, demo_model, demo_model_dir):  # noqa: F811
    from service import create_app
    from service.db import upgrade
    from service.store import FeedbackStore

    upgrade(postgres_url)
    store = FeedbackStore(postgres_url, clock=test_clock())
    config = {"MODEL": demo_model, "MODEL_DIR": str(demo_model_dir), "ADMIN_TOKENS": ADMIN, "SECRET_KEY": "pg-test"}
    app = create_app(config, store=store)
    assert app.extensions["disposisi"].store is store
    try:
        c = app.test_client()
        items = complaint_items(4) + [
            {
                "id": "PG-OLD",
                "text": "Jalan rusak berlubang di desa Jelekong mohon diperbaiki",
                "received": f"{LONG_AGO}T10:00:00",
            }
        ]
        assert c.post("/v1/complaints", json=items, headers=ADMIN_AUTH).json["added"] == 5
        assert c.post("/v1/complaints", json=items, headers=ADMIN_AUTH).json["added"] == 0
        q = c.get("/v1/queue?overdue=true", headers=ADMIN_AUTH).json
        assert [i["id"] for i in q["items"]] == ["PG-OLD"]
        assert c.get("/v1/queue?q=BLANKO", headers=ADMIN_AUTH).json["total"] == 1  # case-insensitive search
        r = c.post("/v1/complaints/T-0/decision", json={"action": "accepted"}, headers=ADMIN_AUTH)
        assert r.status_code == 201
        assert c.post("/v1/complaints/T-0/decision", json={"action": "accepted"}, headers=ADMIN_AUTH).status_code == 409
        c.post(
            "/v1/complaints/T-1/decision",
            json={"action": "not_our_authority", "destination": "Kota Bandung"},
            headers=ADMIN_AUTH,
        )
        assert c.post("/v1/complaints/T-1/undo", headers=ADMIN_AUTH).json["status"] == "open"
        rows = app.extensions["disposisi"].store.export_rows()
        assert [(f["complaint_id"], f["action"]) for f in rows] == [("T-0", "accepted")]
        frame = pd.read_excel(io.BytesIO(c.get("/v1/decisions/today.xlsx", headers=ADMIN_AUTH).data), dtype=str)
        assert list(frame["Tracking ID"]) == ["T-0"]
        overview = app.extensions["disposisi"].complaints.overview()
        assert overview["total"] == 5 and overview["overdue"] >= 1 and overview["decided"] == 1
    finally:
        app.extensions["disposisi"].close()
