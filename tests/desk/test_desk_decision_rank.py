"""What a decision was at decision time (revision 0007_monev_rank): ``feedback.suggested_rank`` and
``feedback.first_suggested`` are written with every feedback record, go with it on undo, and are computed for the
records a database held before the upgrade (SQLite and PostgreSQL), agreeing with ``accepted_as_suggested`` and
``in_top3``, which Monev's top-1 / top-3 used to compute from the JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from desk_helpers import ADMIN_AUTH, complaint_items
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

from routing_model.io.feedback_schema import accepted_as_suggested, in_top3
from service.db import create_engine, feedback, head_revision, upgrade
from service.store import suggested_rank

A, B, C, D = "Dinas A", "Dinas B", "Dinas C", "Dinas D"
SOSIAL = "Dinas Sosial Kabupaten Bandung"  # in the demo registry
# (suggested, chosen, action) -> (rank, first); what the backfill must compute for a record stored before 0007
CASES = [
    (([A, B, C], A, "accepted"), (1, A)),
    (([A, B, C], B, "corrected"), (2, A)),
    (([A, B, C], C, "corrected"), (3, A)),
    (([A, B, C], D, "corrected"), (None, A)),
    (([A, B, C, D], D, "corrected"), (4, A)),  # ranked, but not a top-3
    (([A, A, B], A, "accepted"), (1, A)),  # a name twice: its first place
    (([A, B], A, "not_our_authority"), (1, A)),  # stored as it stood; Monev counts label actions only
    (([], A, "corrected"), (None, None)),  # no suggestion at all
    (([A, B], "", "archived"), (None, A)),  # no chosen agency
]


def _by_id(rows) -> dict[str, tuple]:
    return {r["complaint_id"]: (r["suggested_rank"], r["first_suggested"]) for r in rows}


def test_rank_agrees_with_top1_and_top3():
    for (suggested, chosen, action), (rank, _) in CASES:
        assert suggested_rank(suggested, chosen) == rank
        label = action in ("accepted", "corrected")
        assert accepted_as_suggested(action, suggested, chosen) == (label and rank == 1)
        assert in_top3(action, suggested, chosen) == (label and rank is not None and rank <= 3)


def test_a_decision_writes_rank_and_first_suggestion_and_undo_takes_them_back(client, desk_app, store):
    assert client.post("/v1/complaints", json=complaint_items(3), headers=ADMIN_AUTH).status_code in (200, 201)
    suggested = {cid: [s["agency"] for s in store.get(cid)["suggestions"]] for cid in ("T-0", "T-1", "T-2")}
    assert all(len(s) >= 2 for s in suggested.values()) and SOSIAL not in suggested["T-2"]
    second = suggested["T-1"][1]
    decisions = {
        "T-0": {"action": "accepted"},
        "T-1": {"action": "accepted", "agency": second},  # accepting the second suggestion
        "T-2": {"action": "corrected", "agency": SOSIAL},
    }
    for cid, body in decisions.items():
        r = client.post(f"/v1/complaints/{cid}/decision", json=body, headers=ADMIN_AUTH)
        assert r.status_code == 201, r.json
    engine = desk_app.extensions["disposisi"].store.engine
    with engine.connect() as conn:
        rows = _by_id(r._mapping for r in conn.execute(sa.select(feedback)))
    assert rows == {
        "T-0": (1, suggested["T-0"][0]),
        "T-1": (2, suggested["T-1"][0]),
        "T-2": (None, suggested["T-2"][0]),
    }
    assert client.post("/v1/complaints/T-1/undo", headers=ADMIN_AUTH).status_code == 200
    with engine.connect() as conn:
        left = conn.execute(sa.select(feedback.c.complaint_id, feedback.c.suggested_rank)).all()
    assert sorted(left) == [("T-0", 1), ("T-2", None)]


def _stored_before_0007(url: str) -> None:
    """Feedback records as a 0006 database holds them (no rank, no first suggestion), then the upgrade to head."""
    assert upgrade(url, "0006_search") == "0006_search"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM feedback"))
        for k, ((suggested, chosen, action), _) in enumerate(CASES):
            conn.execute(
                sa.text(
                    "INSERT INTO feedback (id, idempotency_key, complaint_id, text_sha256, confidential, suggested, "
                    "chosen_agency, action, admin, model_version, created_at, region_slug) VALUES (:id, :key, :cid, :sha, "
                    ":conf, :suggested, :chosen, :action, 'ani', 'm1', :at, '')"
                ).bindparams(sa.bindparam("suggested", type_=sa.JSON)),
                {
                    "id": 1 + k * 30_000,  # ids spread over several of the backfill's batches (50,000 ids each)
                    "key": f"old-{k}",
                    "cid": f"OLD-{k}",
                    "sha": "0" * 64,
                    "conf": False,
                    "suggested": suggested,
                    "chosen": chosen,
                    "action": action,
                    "at": datetime(2026, 11, 20, 3, k, tzinfo=UTC),
                },
            )
    engine.dispose()
    assert upgrade(url) == head_revision()


def _check_backfill(url: str) -> None:
    _stored_before_0007(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(feedback.c.complaint_id, feedback.c.suggested_rank, feedback.c.first_suggested)
            ).all()
    finally:
        engine.dispose()
    assert {cid: (rank, first) for cid, rank, first in rows} == {f"OLD-{k}": want for k, (_, want) in enumerate(CASES)}


def test_the_upgrade_computes_rank_and_first_suggestion_of_stored_records_on_sqlite(tmp_path):
    _check_backfill(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_the_upgrade_computes_rank_and_first_suggestion_of_stored_records_on_postgres(postgres_url):  # noqa: F811
    _check_backfill(postgres_url)
