"""The desk pages through Flask's test client: sign-in, roles, CSRF, session expiry, escaping, language, bad input."""

from __future__ import annotations

import io
import re
import time

from desk_helpers import ADMIN_AUTH, LAPOR_XLSX, LONG_AGO, VIEWER, complaint_items, csrf, page_token, sign_in


def _import(client, items):
    r = client.post("/v1/complaints", json=items, headers=ADMIN_AUTH)
    assert r.status_code == 201


def _decide(client, cid, **form):
    token = page_token(client, f"/desk/pengaduan/{cid}")
    return client.post(f"/desk/pengaduan/{cid}/keputusan", data={"csrf_token": token, **form}, follow_redirects=True)


def test_sign_in_required_and_sign_out_refuses_the_queue(client):
    r = client.get("/desk/")
    assert r.status_code == 302 and "/desk/masuk" in r.location
    assert client.get("/").location.endswith("/desk/")
    page = client.get("/desk/masuk")
    r = client.post("/desk/masuk", data={"csrf_token": csrf(page.text), "token": "wrong"})
    assert r.status_code == 401 and "Token tidak dikenal" in r.text
    resp = sign_in(client)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP here
    assert client.get("/desk/").status_code == 200
    r = client.post("/desk/keluar", data={"csrf_token": page_token(client)}, follow_redirects=True)
    assert "Anda sudah keluar" in r.text
    r = client.get("/desk/")
    assert r.status_code == 302 and "/desk/masuk" in r.location


def test_secure_cookie_behind_tls(client):
    page = client.get("/desk/masuk", base_url="https://localhost")
    r = client.post("/desk/masuk", data={"csrf_token": csrf(page.text), "token": VIEWER}, base_url="https://localhost")
    assert "Secure" in r.headers["Set-Cookie"]


def test_csrf_is_required_on_every_form(client, store):
    _import(client, complaint_items(1))
    page = client.get("/desk/masuk")
    r = client.post("/desk/masuk", data={"token": "desk-admin-token"})
    assert r.status_code in (400, 422) and "/desk/" not in (r.location or "")
    sign_in(client)
    r = client.post("/desk/pengaduan/T-0/keputusan", data={"action": "accepted"})
    assert r.status_code == 400 and "CSRF" in r.text
    r = client.post("/desk/pengaduan/T-0/keputusan", data={"action": "accepted", "csrf_token": "forged"})
    assert r.status_code == 400
    assert store.get("T-0")["status"] == "open"
    assert csrf(page.text)


def test_expired_session_changes_nothing(client, store, desk_app):
    _import(client, complaint_items(1))
    sign_in(client)
    token = page_token(client, "/desk/pengaduan/T-0")
    with client.session_transaction() as sess:
        sess["at"] = time.time() - 24 * 3600
    r = client.post(
        "/desk/pengaduan/T-0/keputusan", data={"csrf_token": token, "action": "accepted"}, follow_redirects=True
    )
    assert "Sesi Anda telah berakhir" in r.text and 'id="token"' in r.text
    assert store.get("T-0")["status"] == "open"
    assert desk_app.extensions["disposisi"].store.count() == 0


def test_viewer_can_look_but_not_decide(client, store):
    _import(client, complaint_items(2))
    sign_in(client, VIEWER, "Kepala")
    queue = client.get("/desk/")
    assert queue.status_code == 200 and "T-0" in queue.text
    assert 'id="upload-button"' not in queue.text
    page = client.get("/desk/pengaduan/T-0")
    assert "accept-1" not in page.text
    r = client.post(
        "/desk/pengaduan/T-0/keputusan",
        data={"csrf_token": csrf(page.text), "action": "accepted"},
        follow_redirects=True,
    )
    assert "hanya untuk melihat" in r.text and store.get("T-0")["status"] == "open"
    assert client.get("/desk/ringkasan").status_code == 200


def test_queue_page_filters_and_complaint_page(client):
    items = complaint_items(4)
    items.append(
        {
            "id": "X-<b>",
            "text": "Jalan rusak <script>alert(1)</script> di desa Jelekong berlubang parah",
            "received": LONG_AGO.isoformat(),
        }
    )
    _import(client, items)
    sign_in(client)
    r = client.get("/desk/")
    html = r.text
    assert "Antrean pengaduan" in html and "hari kerja" in html and "lewat batas" in html
    assert "<script>alert" not in html and "X-&lt;b&gt;" in html
    assert re.search(r"<script(?![^>]*src=)", html) is None  # no inline scripts at all
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "T-1" in client.get("/desk/?q=blanko").text and "T-0" not in client.get("/desk/?q=blanko").text
    assert "X-&lt;b&gt;" in client.get("/desk/?overdue=1").text and "T-0" not in client.get("/desk/?overdue=1").text
    page = client.get("/desk/pengaduan/X-<b>")
    assert page.status_code == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    detail = client.get("/desk/pengaduan/T-0").text
    assert "<mark>" in detail and 'id="accept-1"' in detail and '<datalist id="agency-list">' in detail
    assert "Dinas Sosial Kabupaten Bandung" in detail  # the type-ahead lists the registry
    missing = client.get("/desk/pengaduan/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.text and "tidak ada" in missing.text


def test_every_form_field_has_a_label(client):
    _import(client, complaint_items(1))
    sign_in(client)
    for path in ("/desk/", "/desk/pengaduan/T-0"):
        html = client.get(path).text
        ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"', html)
        assert ids, path
        for field in ids:
            assert f'for="{field}"' in html, (path, field)


def test_decisions_undo_and_errors_in_the_page(client, store, desk_app):
    _import(client, complaint_items(4))
    sign_in(client)
    r = _decide(client, "T-0", action="accepted", agency=store.get("T-0")["suggestions"][0]["agency"])
    assert "Diterima" in r.text
    r = _decide(client, "T-0", action="accepted")
    assert "sudah diputuskan" in r.text
    r = _decide(client, "T-1", action="corrected", agency="Dinas Sulap Kab. Bandung")
    assert "tidak ada di daftar instansi" in r.text and store.get("T-1")["status"] == "open"
    r = _decide(client, "T-1", action="corrected", agency="Dinas Sosial Kabupaten Bandung")
    assert store.get("T-1")["decision"]["agency"] == "Dinas Sosial Kabupaten Bandung"
    r = _decide(client, "T-2", action="not_our_authority", destination="Kota Bandung")
    assert store.get("T-2")["decision"]["destination"] == "Kota Bandung"
    token = page_token(client, "/desk/pengaduan/T-2")
    r = client.post("/desk/pengaduan/T-2/batal", data={"csrf_token": token}, follow_redirects=True)
    assert "dibatalkan" in r.text and store.get("T-2")["status"] == "open"
    actions = sorted(f["action"] for f in desk_app.extensions["disposisi"].store.export_rows())
    assert actions == ["accepted", "corrected"]
    r = client.get("/desk/ekspor")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    over = client.get("/desk/ringkasan").text
    assert "<svg" in over and "Tingkat penerimaan per versi model" in over and "Dinas Sosial Kabupaten Bandung" in over


def test_uploads_in_the_page(client, desk_app):
    sign_in(client)
    token = page_token(client)
    r = client.post(
        "/desk/impor",
        data={"csrf_token": token, "file": (io.BytesIO(b"%PDF"), "laporan.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Impor gagal" in r.text and "bukan ekspor SP4N-LAPOR!" in r.text
    big = io.BytesIO(b"x" * (50 * 1024 * 1024))  # the 50 MB upload of the issue
    r = client.post(
        "/desk/impor",
        data={"csrf_token": token, "file": (big, "besar.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Berkas terlalu besar" in r.text
    with open(LAPOR_XLSX, "rb") as f:
        r = client.post(
            "/desk/impor",
            data={"csrf_token": token, "file": (f, LAPOR_XLSX.name)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    assert "580 pengaduan baru diimpor" in r.text
    assert desk_app.extensions["disposisi"].complaints.queue()["total"] == 580


def test_english_interface(client):
    sign_in(client)
    r = client.get("/desk/bahasa/en?next=/desk/", follow_redirects=True)
    assert "Complaint queue" in r.text and "Antrean pengaduan" not in r.text and 'lang="en"' in r.text
    r = client.get("/desk/bahasa/id?next=/desk/", follow_redirects=True)
    assert "Antrean pengaduan" in r.text
    assert client.get("/desk/bahasa/fr").status_code == 404
    assert client.get("/desk/bahasa/en?next=https://evil.example/").location == "/desk/"


def test_element_ids_are_unique(client):
    _import(client, complaint_items(1))
    sign_in(client)
    for path in ("/desk/", "/desk/pengaduan/T-0", "/desk/ringkasan"):
        ids = re.findall(r'\bid="([^"]+)"', client.get(path).text)
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))


def test_secret_key_is_created_once_and_shared(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from service.desk import secret_key

    cfg = {"DATA_DIR": str(tmp_path / "var"), "SECRET_KEY": None}
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: secret_key(cfg), range(32)))
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert (tmp_path / "var" / "desk_secret_key").stat().st_mode & 0o077 == 0  # private to the service user
    assert secret_key({"DATA_DIR": str(tmp_path), "SECRET_KEY": "given"}) == "given"
