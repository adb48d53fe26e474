"""The feedback store on SQLite and on a real PostgreSQL server; hot reload of the model pointer."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from glob import glob
from pathlib import Path

import pytest
import sqlalchemy as sa
from svc_helpers import copy_model, free_port

from routing_model.io.feedback_schema import DERIVED_COLUMNS
from service.db import head_revision, upgrade
from service.store import FeedbackInput, FeedbackStore

COLUMNS = {
    "id",
    "idempotency_key",
    "complaint_id",
    "text",
    "text_sha256",
    "confidential",
    "suggested",
    "chosen_agency",
    "action",
    "admin",
    "model_version",
    "needs_review",
    "note",
    "created_at",
    "region_slug",
}


def item(key="k1", **over) -> FeedbackInput:
    values = dict(
        idempotency_key=key,
        complaint_id="c1",
        text="jalan rusak, telp 081234567890, email a@b.co",
        suggested=["Dinas A", "Dinas B"],
        chosen_agency="Dinas A",
        action="accepted",
        admin="ani",
        model_version="v1",
        needs_review=False,
    )
    values.update(over)
    return FeedbackInput(**values)


def exercise_store(url: str) -> None:
    upgrade(url)
    store = FeedbackStore(url)
    try:
        rec, created = store.add(item())
        assert created and "081234567890" not in rec["text"] and "a@b.co" not in rec["text"]
        again, created = store.add(item())
        assert not created and again == rec
        store.add(
            item("k2", confidential=True, chosen_agency="Dinas B", action="corrected", needs_review=None, note="n")
        )
        rows = store.export_rows()
        assert [r["idempotency_key"] for r in rows] == ["k1", "k2"]
        assert set(rows[0]) == COLUMNS
        assert rows[0]["region_slug"] == ""  # the deployment's own region (serve --model DIR)
        assert (
            rows[1]["text"] is None
            and rows[1]["confidential"] is True
            and rows[1]["suggested"] == ["Dinas A", "Dinas B"]
        )
        stats = store.stats()
        assert stats["total"]["n"] == 2 and stats["total"]["top1_accepted_share"] == 0.5
        assert stats["total"]["needs_review_known"] == 1
        assert store.ping()
    finally:
        store.close()
    # reopening keeps the rows; a new reader with plain SQLAlchemy sees the exact columns
    store = FeedbackStore(url)
    assert store.count() == 2
    store.close()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("feedback")}
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    # the record's columns and those the service derives for Monev (0007_monev_rank), which records never carry
    assert cols == COLUMNS | set(DERIVED_COLUMNS) and revision == head_revision()


def upgrade_url(url: str) -> str:
    upgrade(url)
    return url


def test_sqlite_store(tmp_path):
    path = tmp_path / "sub" / "fb.sqlite3"
    exercise_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_pragmas_on_every_connection(tmp_path):
    store = FeedbackStore(upgrade_url(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def test_feedback_survives_a_killed_writer(tmp_path):
    """Committed before add() returns: a process killed right after keeps the row."""
    import sys

    url = upgrade_url(f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    code = (
        "import os, sys; from service.store import FeedbackStore, FeedbackInput\n"
        f"s = FeedbackStore({url!r})\n"
        "s.add(FeedbackInput('kill-1', 'c', 'jalan rusak', ['A'], 'A', 'accepted', 'ani', 'v1'))\n"
        "os._exit(0)  # no cleanup, no close\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    store = FeedbackStore(url)
    assert [r["idempotency_key"] for r in store.export_rows()] == ["kill-1"]
    store.close()


# -- PostgreSQL ---------------------------------------------------------------------------------
def _pg_bin() -> Path | None:
    found = sorted(
        glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[3]) if Path(p).parts[3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _unavailable(reason: str):
    """Never a skip: `make test` installs PostgreSQL (scripts/system-packages), so a missing server is a failure."""
    pytest.fail(f"no PostgreSQL server could be started ({reason}); run scripts/system-packages as root")


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _pg_bin()
    if bindir is None:
        _unavailable("initdb not found under /usr/lib/postgresql/*/bin")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="disposisi-pg-", dir="/tmp"))
    if os.geteuid() == 0:  # postgres refuses to run as root
        runuser = shutil.which("runuser")
        if runuser is None:
            _unavailable("running as root and runuser is missing")
        as_user = [runuser, "-u", "postgres", "--"]
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
    data, sock, port = base / "data", base / "sock", free_port()
    log = base / "server.log"

    def run(*cmd, timeout=120):
        return subprocess.run([*as_user, *map(str, cmd)], capture_output=True, text=True, timeout=timeout)

    started = False
    try:
        run("mkdir", "-p", sock)
        r = run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        if r.returncode:
            _unavailable(f"initdb failed: {r.stderr.strip()[-500:]}")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={sock} -c fsync=off"
        r = run(bindir / "pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start")
        if r.returncode:
            _unavailable(
                f"pg_ctl start failed: {r.stderr.strip()[-500:]} {log.read_text()[-500:] if log.exists() else ''}"
            )
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def test_postgres_store(postgres_url):
    exercise_store(postgres_url)


def test_postgres_behind_the_api(postgres_url, demo_model, demo_model_dir, tmp_path):
    from service import create_app

    upgrade(postgres_url)
    app = create_app(
        {
            "MODEL": demo_model,
            "MODEL_DIR": str(demo_model_dir),
            "DATABASE_URL": postgres_url,
            "ADMIN_TOKENS": "pg-token",
        }
    )
    try:
        c = app.test_client()
        assert c.get("/readyz").status_code == 200
        body = {
            "complaint_id": "pg-1",
            "text": "jalan rusak parah",
            "suggested": ["Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung"],
            "chosen_agency": "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung",
            "action": "accepted",
            "admin": "ani",
            "model_version": demo_model.version,
            "idempotency_key": "pg-key",
        }
        auth = {"Authorization": "Bearer pg-token"}
        assert c.post("/v1/feedback", json=body, headers=auth).status_code == 201
        assert c.post("/v1/feedback", json=body, headers=auth).status_code == 200
        assert c.get("/v1/stats").get_json()["by_model_version"][demo_model.version]["n"] == 1
    finally:
        app.extensions["disposisi"].close()


# -- hot reload (in-process; the real-server version is in test_service_e2e) --------------------
def test_models_dir_reload_switches_and_survives_a_broken_model(demo_model_dir, tmp_path):
    from routing_model.artifact.store import point
    from service.state import ModelHolder

    models = tmp_path / "models"
    models.mkdir()
    a = copy_model(demo_model_dir, models / "a")
    b = copy_model(demo_model_dir, models / "b", version="b-version")
    broken = copy_model(demo_model_dir, models / "broken", version="broken")
    with open(broken / "served.npz", "ab") as fh:  # the file the service loads
        fh.write(b"tampered")
    point(models, "current", a)
    holder = ModelHolder(models_dir=models, interval=0.1)
    first = holder.model
    assert holder.check_reload() is False
    point(models, "current", broken)
    assert holder.check_reload() is False and holder.model is first and "broken" in holder.last_error
    point(models, "current", b)
    holder.start()
    deadline = time.monotonic() + 30
    while holder.model.version != "b-version" and time.monotonic() < deadline:
        time.sleep(0.05)
    holder.stop()
    assert holder.model.version == "b-version" and holder.last_error is None
    assert first.version != "b-version"  # the old object is untouched for requests still holding it
