"""`outside_region` from the model (the lead's regions change) flows into the queue and pre-fills bukan wewenang.

The served model is wrapped so its suggestions carry ``outside_region`` the way the new
``Suggestion.to_dict()`` will; the desk reads it with ``.get`` so it works before and after.
"""
from __future__ import annotations

from desk_helpers import ADMIN_AUTH, csrf, sign_in


class _Suggestion:
    def __init__(self, inner, region):
        self.inner, self.region = inner, region

    def to_dict(self) -> dict:
        d = self.inner.to_dict()
        d["outside_region"] = {"region": self.region, "evidence": ["samarinda"]} if self.region else None
        return d


class RegionModel:
    """The demo model, plus outside_region for texts naming Samarinda."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def suggest(self, texts, k=3):
        return [_Suggestion(s, "Kota Samarinda" if "samarinda" in t.lower() else None)
                for s, t in zip(self.model.suggest(texts, k=k), texts)]


def test_outside_region_is_shown_and_used(client, desk_app, store):
    st = desk_app.extensions["disposisi"]
    st.models.model = RegionModel(st.models.model)
    items = [{"id": "S-1", "text": "Jalan di Kelurahan Sungai Pinang Kota Samarinda rusak parah, mohon diperbaiki", "received": "2026-11-20"},
             {"id": "S-2", "text": "Jalan di Desa Jelekong rusak parah, mohon diperbaiki", "received": "2026-11-20"}]
    assert client.post("/v1/complaints", json=items, headers=ADMIN_AUTH).status_code == 201
    queue = {i["id"]: i for i in client.get("/v1/queue", headers=ADMIN_AUTH).json["items"]}
    assert queue["S-1"]["outside_region"]["region"] == "Kota Samarinda" and queue["S-2"]["outside_region"] is None

    sign_in(client)
    assert "luar wilayah: Kota Samarinda" in client.get("/desk/").text
    page = client.get("/desk/pengaduan/S-1").text
    assert 'value="Kota Samarinda"' in page  # bukan wewenang is pre-filled with the other region
    # the API decides bukan wewenang without a destination: the region is used
    r = client.post("/v1/complaints/S-1/decision", json={"action": "not_our_authority"}, headers=ADMIN_AUTH)
    assert r.status_code == 201 and r.json["decision"]["destination"] == "Kota Samarinda"
    assert csrf(page)
