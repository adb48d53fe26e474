"""`outside_region` from the real model flows into the queue and pre-fills bukan wewenang.

"Kelurahan Sungai Pinang Kota Samarinda" once went to Kabupaten Merangin (a place called "Sungai"
there matched the first word); the longest name now wins, and the test uses the served model
itself, not a wrapper.
"""

from __future__ import annotations

from desk_helpers import ADMIN_AUTH, RECENT, csrf, sign_in


def test_outside_region_is_shown_and_used(client, desk_app, store):
    items = [
        {
            "id": "S-1",
            "text": "Jalan di Kelurahan Sungai Pinang Kota Samarinda rusak parah, mohon diperbaiki",
            "received": RECENT.isoformat(),
        },
        {"id": "S-2", "text": "Jalan di Desa Jelekong rusak parah, mohon diperbaiki", "received": RECENT.isoformat()},
    ]
    assert client.post("/v1/complaints", json=items, headers=ADMIN_AUTH).status_code == 201
    queue = {i["id"]: i for i in client.get("/v1/queue", headers=ADMIN_AUTH).json["items"]}
    assert queue["S-1"]["outside_region"]["region"] == "Kota Samarinda" and queue["S-2"]["outside_region"] is None

    sign_in(client)
    assert "luar wilayah: Kota Samarinda" in client.get("/desk/").text
    page = client.get("/desk/pengaduan/S-1").text
    # bukan wewenang is pre-filled with the other region (an option of the destination select)
    assert '<option value="Kota Samarinda" selected>Pemerintah Kota Samarinda</option>' in page
    assert page.count(" selected>") == 1
    # the API decides bukan wewenang without a destination: the region is used
    r = client.post("/v1/complaints/S-1/decision", json={"action": "not_our_authority"}, headers=ADMIN_AUTH)
    assert r.status_code == 201 and r.json["decision"]["destination"] == "Kota Samarinda"
    assert csrf(page)
