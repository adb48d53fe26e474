"""Two `disposisi serve` processes on two ports sharing one PostgreSQL (issue 17 part 6): started together on
an empty database, both import the same 200 complaints at once, and admins on both decide every complaint
concurrently. Each complaint is decided exactly once (one 201, every other attempt 409), with exactly one
feedback record and one audit row; nothing is lost."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from svc_helpers import ADMIN_TOKEN, AUTH, Server
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

pytestmark = pytest.mark.slow

N = 200
ATTEMPTS = 4  # per complaint: two through each server
TEXTS = [
    "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki",
    "e-KTP saya sudah 3 bulan belum jadi, kata petugas blanko habis",
    "Sampah menumpuk di pinggir jalan dekat pasar Soreang, bau sekali",
    "Lampu PJU di jalan raya Soreang mati sudah seminggu, gelap dan rawan",
    "Bantuan sosial PKH untuk keluarga kami tidak cair sejak tiga bulan",
]


def _call(method: str, url: str, body=None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={**AUTH, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_two_servers_on_one_postgres_decide_each_complaint_once(postgres_url, demo_model_dir, tmp_path):  # noqa: F811
    from clock_helpers import RECENT, TEST_NOW

    servers = [
        Server(
            ["--model", str(demo_model_dir)],
            {
                "DISPOSISI_DATABASE_URL": postgres_url,
                "DISPOSISI_DATA_DIR": str(tmp_path / name),
                "DISPOSISI_ADMIN_TOKENS": ADMIN_TOKEN,
                "DISPOSISI_CLOCK_START": TEST_NOW,
            },
            tmp_path / f"{name}.log",
        )
        for name in ("a", "b")
    ]
    try:
        for server in servers:  # started together: both migrate the empty database in their master
            server.wait_ready()
        assert servers[0].port != servers[1].port

        items = [
            {"id": f"PG2-{i:03d}", "text": f"{TEXTS[i % len(TEXTS)]} (laporan {i})", "received": f"{RECENT}T08:00:00"}
            for i in range(N)
        ]
        with ThreadPoolExecutor(2) as pool:  # the same import through both servers at once
            imports = list(pool.map(lambda s: _call("POST", s.base + "/v1/complaints", items), servers))
        assert [code for code, _ in imports] == [200, 200] or sorted(c for c, _ in imports) == [200, 201], imports
        assert sum(body["added"] for _, body in imports) == N  # every complaint stored once, by one of them
        assert sum(body["added"] + body["skipped_existing"] for _, body in imports) == 2 * N

        codes: dict[str, list[int]] = {item["id"]: [] for item in items}
        lock = threading.Lock()
        attempts = [(item["id"], servers[k % 2], f"admin-{k}") for item in items for k in range(ATTEMPTS)]

        def decide(job):
            cid, server, admin = job
            code, body = _call(
                "POST", f"{server.base}/v1/complaints/{cid}/decision", {"action": "accepted", "admin": admin}
            )
            assert code in (201, 409), (code, body)
            if code == 409:
                assert body["error"]["code"] == "already_decided", body
            with lock:
                codes[cid].append(code)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(decide, attempts))
        assert {cid: sorted(c) for cid, c in codes.items()} == {cid: [201] + [409] * (ATTEMPTS - 1) for cid in codes}

        engine = sa.create_engine(postgres_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT status, feedback_id, decided_by FROM complaints WHERE id LIKE 'PG2-%'")
                ).all()
                feedback = conn.execute(
                    sa.text("SELECT complaint_id, id FROM feedback WHERE complaint_id LIKE 'PG2-%'")
                ).all()
                audits = conn.execute(
                    sa.text("SELECT subject FROM audit WHERE action = 'decide' AND subject LIKE 'PG2-%'")
                ).scalars()
                audit_counts = Counter(audits)
        finally:
            engine.dispose()
        assert len(rows) == N and {r.status for r in rows} == {"decided"}
        assert len(feedback) == N and len({f.complaint_id for f in feedback}) == N  # one record per decision
        assert {r.feedback_id for r in rows} == {f.id for f in feedback}  # each complaint points at its record
        assert audit_counts == Counter({item["id"]: 1 for item in items})
        # both servers read the same answer afterwards
        for server in servers:
            code, queue = _call("GET", server.base + "/v1/queue?status=decided&per_page=200")
            assert code == 200 and queue["total"] == N
    finally:
        for server in servers:
            server.stop()
