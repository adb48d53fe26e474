"""The desk's public API: import, queue, decisions, undo, export; tokens and bad input in the JSON error shape."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from desk_helpers import ADMIN_AUTH, LAPOR_XLSX, LONG_AGO, RECENT, VIEWER_AUTH, complaint_items


def _post(client, items, headers=ADMIN_AUTH):
    return client.post("/v1/complaints", json=items, headers=headers)


def _feedback(desk_app):
    return desk_app.extensions["disposisi"].store.export_rows()


def test_tokens_are_required_and_viewers_cannot_write(client):
    items = complaint_items(1)
    assert _post(client, items, headers={}).status_code == 401
    r = _post(client, items, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    r = _post(client, items, headers=VIEWER_AUTH)
    assert r.status_code == 403 and "viewer" in r.json["error"]["message"]
    assert client.get("/v1/queue").status_code == 401
    assert client.get("/v1/queue", headers=VIEWER_AUTH).status_code == 200


def test_import_masks_text_and_is_keyed_by_tracking_id(client, store):
    items = complaint_items(3)
    r = _post(client, items)
    assert r.status_code == 201 and r.json["added"] == 3
    r = _post(client, {"complaints": items})  # the same complaints again: nothing new
    assert r.status_code == 200 and r.json["added"] == 0 and r.json["skipped_existing"] == 3
    stored = store.get("T-1")
    assert "081234567890" not in stored["text"] and "081234567890" not in str(stored["source"])
    assert stored["suggestions"] and stored["model_version"]


def test_confidential_complaint_keeps_no_text(client, store, desk_app):
    item = {
        "id": "R-1",
        "text": "Saya dipungli petugas kecamatan saat urus KTP, nama saya Budi 081234567890",
        "received": RECENT.isoformat(),
        "title": "Pungli",
        "confidential": True,
    }
    assert _post(client, [item]).status_code == 201
    stored = store.get("R-1")
    assert stored["text"] is None and stored["title"] is None and stored["reasons"] == []
    assert "Budi" not in str(stored["source"]) and "Pungli" not in str(stored["source"])
    assert stored["suggestions"]  # suggested at import, before the text was dropped
    r = client.post("/v1/complaints/R-1/decision", json={"action": "accepted"}, headers=ADMIN_AUTH)
    assert r.status_code == 201
    (fb,) = _feedback(desk_app)
    assert fb["confidential"] is True and fb["text"] is None


def test_queue_items_filters_and_pages(client):
    items = complaint_items(4) + [
        {
            "id": "OLD-1",
            "text": "Jalan rusak berlubang di desa Jelekong mohon diperbaiki segera",
            "received": f"{LONG_AGO}T10:00:00",
        }
    ]
    _post(client, items)
    r = client.get("/v1/queue", headers=VIEWER_AUTH)
    page = r.json
    assert page["total"] == 5
    first = page["items"][0]
    for key in (
        "id",
        "received",
        "working_days_open",
        "due",
        "overdue",
        "suggestions",
        "needs_review",
        "outside_region",
        "duplicates",
        "status",
    ):
        assert key in first
    dues = [i["due"] for i in page["items"]]
    assert dues == sorted(dues, reverse=True)  # newest deadline first
    overdue = client.get("/v1/queue?overdue=true", headers=VIEWER_AUTH).json
    assert [i["id"] for i in overdue["items"]] == ["OLD-1"] and overdue["items"][0]["overdue"] is True
    assert overdue["items"][0]["working_days_open"] > 500
    assert client.get("/v1/queue?q=blanko", headers=VIEWER_AUTH).json["total"] == 1
    top = first["suggestions"][0]["agency"]
    by_agency = client.get("/v1/queue", query_string={"agency": top}, headers=VIEWER_AUTH).json
    assert by_agency["total"] >= 1 and all(i["agency"] == top for i in by_agency["items"])
    paged = client.get("/v1/queue?per_page=2&page=3", headers=VIEWER_AUTH).json
    assert paged["pages"] == 3 and len(paged["items"]) == 1
    review = client.get("/v1/queue?needs_review=true", headers=VIEWER_AUTH).json
    assert all(i["needs_review"] for i in review["items"])
    assert client.get("/v1/queue?status=bogus", headers=VIEWER_AUTH).status_code == 422
    assert client.get("/v1/queue?overdue=maybe", headers=VIEWER_AUTH).status_code == 422


def test_decisions_write_feedback_and_refuse_bad_input(client, desk_app, store):
    _post(client, complaint_items(4))
    fb0 = len(_feedback(desk_app))
    r = client.post("/v1/complaints/NOPE/decision", json={"action": "accepted"}, headers=ADMIN_AUTH)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = client.post(
        "/v1/complaints/T-0/decision", json={"action": "corrected", "agency": "Dinas Sulap"}, headers=ADMIN_AUTH
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_agency"
    r = client.post("/v1/complaints/T-0/decision", json={"action": "teleport"}, headers=ADMIN_AUTH)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_action"
    r = client.post("/v1/complaints/T-0/decision", json={"action": "not_our_authority"}, headers=ADMIN_AUTH)
    assert r.status_code == 422 and r.json["error"]["code"] == "missing_field"
    assert store.get("T-0")["status"] == "open" and len(_feedback(desk_app)) == fb0  # nothing half-stored

    r = client.post("/v1/complaints/T-0/decision", json={"action": "accepted"}, headers=ADMIN_AUTH)
    assert r.status_code == 201 and r.json["decision"]["action"] == "accepted"
    r = client.post(
        "/v1/complaints/T-0/decision",
        json={"action": "corrected", "agency": "Dinas Sosial Kabupaten Bandung"},
        headers=ADMIN_AUTH,
    )
    assert r.status_code == 409 and r.json["error"]["code"] == "already_decided"
    r = client.post(
        "/v1/complaints/T-1/decision",
        json={"action": "corrected", "agency": "dinas sosial kab bandung", "admin": "budi"},
        headers=ADMIN_AUTH,
    )
    assert r.status_code == 201 and r.json["decision"]["agency"] == "Dinas Sosial Kabupaten Bandung"
    r = client.post(
        "/v1/complaints/T-2/decision",
        json={"action": "not_our_authority", "destination": "Kota Bandung"},
        headers=ADMIN_AUTH,
    )
    assert r.status_code == 201 and r.json["decision"]["destination"] == "Kota Bandung"
    r = client.post(
        "/v1/complaints/T-3/decision", json={"action": "duplicate", "duplicate_of": "T-0"}, headers=ADMIN_AUTH
    )
    assert r.status_code == 201 and r.json["decision"]["duplicate_of"] == "T-0"

    rows = {f["complaint_id"]: f for f in _feedback(desk_app)}
    assert (
        rows["T-0"]["action"] == "accepted"
        and rows["T-0"]["chosen_agency"] == store.get("T-0")["suggestions"][0]["agency"]
    )
    assert rows["T-1"]["action"] == "corrected" and rows["T-1"]["admin"] == "budi"
    assert rows["T-2"]["action"] == "not_our_authority" and "Kota Bandung" in rows["T-2"]["note"]
    assert rows["T-3"]["action"] == "archived" and "T-0" in rows["T-3"]["note"]  # ignored by retrain, as documented

    # undo: the complaint is open again and its feedback record is gone
    r = client.post("/v1/complaints/T-1/undo", headers=ADMIN_AUTH)
    assert r.status_code == 200 and r.json["status"] == "open"
    assert "T-1" not in {f["complaint_id"] for f in _feedback(desk_app)}
    assert client.post("/v1/complaints/T-1/undo", headers=ADMIN_AUTH).status_code == 409

    # the day's export: original columns + the decision, readable by pandas
    r = client.get("/v1/decisions/today.xlsx", headers=VIEWER_AUTH)
    assert r.status_code == 200
    frame = pd.read_excel(io.BytesIO(r.data), dtype=str)
    assert set(frame["Tracking ID"]) == {"T-0", "T-2", "T-3"}
    assert {"Isi Laporan Awal", "Keputusan", "Instansi Tujuan", "Diteruskan ke"} <= set(frame.columns)


def test_decided_feedback_is_read_by_retrain(client, desk_app, registry):
    from training.learning.feedback import feedback_labels, read_feedback_frame

    _post(client, complaint_items(2))
    client.post("/v1/complaints/T-0/decision", json={"action": "accepted"}, headers=ADMIN_AUTH)
    client.post(
        "/v1/complaints/T-1/decision",
        json={"action": "corrected", "agency": "Dinas Sosial Kabupaten Bandung"},
        headers=ADMIN_AUTH,
    )
    url = desk_app.extensions["disposisi"].store.url
    labels = feedback_labels(read_feedback_frame(url), registry)
    assert sorted(labels.labels["complaint_id"]) == ["T-0", "T-1"]


@pytest.mark.parametrize(
    "name,data,needle",
    [
        ("notes.pdf", b"%PDF-1.4 hello", "bukan ekspor"),
        ("empty.csv", b"", "kosong"),
        ("other.csv", b"a,b\n1,2\n", "kolom tidak ada"),
        ("broken.xlsx", b"not a zip at all", "not a readable .xlsx"),
        ("header_only.csv", b"id,text,date\n", "tidak ada pengaduan"),
        ("bad_date.csv", b"id,text,date\nX1,Jalan rusak parah mohon diperbaiki,kemarin\n", "tanggal tidak terbaca"),
    ],
)
def test_bad_files_are_refused_whole(client, store, name, data, needle):
    r = client.post(
        "/v1/complaints/import",
        data={"file": (io.BytesIO(data), name)},
        headers=ADMIN_AUTH,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422, r.json
    assert needle in r.json["error"]["message"]
    assert store.queue(status="all")["total"] == 0


def test_upload_limits_and_bad_json(client, desk_app):
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))  # over this app's 2 MB upload limit
    r = client.post(
        "/v1/complaints/import", data={"file": (big, "big.csv")}, headers=ADMIN_AUTH, content_type="multipart/form-data"
    )
    assert r.status_code == 413 and r.json["error"]["code"] == "payload_too_large"
    r = client.post("/v1/complaints/import", data={}, headers=ADMIN_AUTH, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.json["error"]["message"]
    assert _post(client, []).status_code == 422
    assert (
        _post(client, [{"id": "X", "text": "jalan rusak", "received": "kemarin"}]).json["error"]["code"]
        == "invalid_date"
    )
    assert _post(client, [{"id": "", "text": "jalan rusak", "received": "2026-01-01"}]).status_code == 422


def test_real_lapor_export_imports_once(client, shared_data):
    with open(LAPOR_XLSX, "rb") as f:
        r = client.post(
            "/v1/complaints/import",
            data={"file": (f, LAPOR_XLSX.name)},
            headers=ADMIN_AUTH,
            content_type="multipart/form-data",
        )
    assert r.status_code == 201 and r.json["added"] == 580 and r.json["duplicates_found"] >= 20
    with open(LAPOR_XLSX, "rb") as f:
        r = client.post(
            "/v1/complaints/import",
            data={"file": (f, LAPOR_XLSX.name)},
            headers=ADMIN_AUTH,
            content_type="multipart/form-data",
        )
    assert r.status_code == 200 and r.json["added"] == 0 and r.json["skipped_existing"] == 580
    one = client.get("/v1/complaints/7165891", headers=VIEWER_AUTH).json  # a copy-paste campaign message
    assert one["duplicates"] and one["received"].startswith("2023-")


def test_openapi_documents_every_desk_route(desk_app):
    spec = desk_app.test_client().get("/openapi.json").get_json()
    rules = {
        r.rule.replace("<complaint_id>", "{complaint_id}")
        for r in desk_app.url_map.iter_rules()
        if r.endpoint.startswith("complaints_v1.")
    }
    assert rules and rules <= set(spec["paths"]), rules - set(spec["paths"])
    assert spec["paths"]["/v1/complaints/{complaint_id}/decision"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    assert "viewerToken" in spec["components"]["securitySchemes"]


def test_csv_uploads_plain_or_with_lapor_column_names(client, store, shared_data):
    plain = b"id,date,text\nC-1,2026-11-20,Jalan rusak parah di desa Jelekong mohon diperbaiki\n"
    lapor = (
        "Tracking ID;Tanggal Laporan Masuk;Judul Laporan;Isi Laporan Awal\n"
        "C-2;2026-11-21;Sampah;Sampah menumpuk di pasar Soreang tidak diangkut\n"
    ).encode("cp1252")
    for name, data in (("plain.csv", plain), ("lapor.csv", lapor)):
        r = client.post(
            "/v1/complaints/import",
            data={"file": (io.BytesIO(data), name)},
            headers=ADMIN_AUTH,
            content_type="multipart/form-data",
        )
        assert r.status_code == 201 and r.json["added"] == 1, r.json
    assert store.get("C-2")["title"] == "Sampah"
    assert ["Tracking ID", "C-2"] in store.get("C-2")["source"]  # the export keeps the original column names
    with open(shared_data / "lapor" / "kab_bandung_2021_2023.csv", "rb") as f:  # the shared CSV as it is
        r = client.post(
            "/v1/complaints/import",
            data={"file": (f, "kab_bandung.csv")},
            headers=ADMIN_AUTH,
            content_type="multipart/form-data",
        )
    assert r.status_code == 201 and r.json["added"] > 400
