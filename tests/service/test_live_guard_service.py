"""The live guard in the service: admins' corrections of auto-suggestions send the agency to review."""

from __future__ import annotations

import hashlib

from svc_helpers import ADMIN_TOKEN, AUTH

ROAD = "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki oleh dinas terkait"


def test_corrected_auto_suggestions_withdraw_the_agency(demo_model, demo_model_dir, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    upgrade(default_sqlite_url(tmp_path / "var"))
    app = create_app(
        {
            "MODEL": demo_model,
            "MODEL_DIR": str(demo_model_dir),
            "DATA_DIR": str(tmp_path / "var"),
            "ADMIN_TOKENS": ADMIN_TOKEN,
            "ADMIN_TOKEN_HASHES": hashlib.sha256(b"x").hexdigest(),
            "LIVE_GUARD_REFRESH": 0,
        }
    )
    client = app.test_client()
    try:
        first = client.post("/v1/suggest", json={"text": ROAD}).get_json()
        names = [s["agency"] for s in first["suggestions"]]
        assert "live_precision_low" not in first["warnings"]
        assert client.get("/v1/stats").get_json()["live_guard"]["withdrawn"] == {}
        # five auto-suggestions of the top agency, each corrected by an admin; reviewed ones do not count
        for i in range(7):
            body = {
                "complaint_id": f"G-{i}",
                "text": ROAD,
                "suggested": names,
                "chosen_agency": names[1],
                "action": "corrected",
                "admin": "ani",
                "model_version": first["model_version"],
                "idempotency_key": f"guard-{i}",
                "needs_review": i >= 5,
            }
            assert client.post("/v1/feedback", json=body, headers=AUTH).status_code == 201
        withdrawn = client.get("/v1/stats").get_json()["live_guard"]["withdrawn"]
        assert withdrawn[names[0]]["n"] == 5 and withdrawn[names[0]]["accepted"] == 0
        after = client.post("/v1/suggest", json={"text": ROAD}).get_json()
        assert after["needs_review"] and "live_precision_low" in after["warnings"]
        assert [
            s["agency"] for s in after["suggestions"]
        ] == names  # the ranking is unchanged; only the promise is withdrawn
    finally:
        app.extensions["disposisi"].close()
