"""The desk names the live guard's warning in Indonesian, in the review tag and the model's warnings."""

from __future__ import annotations

from desk_helpers import ADMIN_AUTH, RECENT, sign_in

ROAD = "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki oleh dinas terkait"


def test_a_withdrawn_agency_is_explained_to_the_admin(client, desk_app, store):
    desk_app.extensions["disposisi"].config["LIVE_GUARD_REFRESH"] = 0  # read the feedback at once
    top = client.post("/v1/suggest", json={"text": ROAD}).get_json()
    names = [s["agency"] for s in top["suggestions"]]
    for i in range(5):  # five auto-suggestions of the top agency, each corrected
        body = {
            "complaint_id": f"G-{i}",
            "text": ROAD,
            "suggested": names,
            "chosen_agency": names[1],
            "action": "corrected",
            "admin": "ani",
            "model_version": top["model_version"],
            "idempotency_key": f"guard-{i}",
            "needs_review": False,
        }
        assert client.post("/v1/feedback", json=body, headers=ADMIN_AUTH).status_code == 201
    item = {"id": "LG-1", "text": ROAD, "received": RECENT.isoformat()}
    assert client.post("/v1/complaints", json=[item], headers=ADMIN_AUTH).status_code == 201
    sign_in(client)
    page = client.get("/desk/pengaduan/LG-1").text
    said = "saran ke instansi ini sering dikoreksi admin akhir-akhir ini"
    assert page.count(said) == 2  # the review tag and the model's warnings
    assert "live_precision_low" not in page  # never the raw code
