"""`/v1/stats`, the managers' report and docs/learning.md mean the same thing by "accepted".

An acceptance is an ``accepted``/``corrected`` decision for the top suggestion; a
``not_our_authority`` is never one, even when it names the top suggestion (routing_model/io/feedback_schema.py).
The feedback schema is also checked to be the one the store and the migration use.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from svc_helpers import AUTH

from routing_model.io import feedback_schema as schema

ROOT = Path(__file__).resolve().parents[2]
ROAD = "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki oleh dinas terkait"


def _post_all(client) -> list[str]:
    top = client.post("/v1/suggest", json={"text": ROAD}).get_json()
    names = [s["agency"] for s in top["suggestions"]]
    decisions = [
        ("accepted", names[0]),  # an acceptance
        ("corrected", names[1]),  # not one: the admin chose the second suggestion
        ("not_our_authority", names[0]),  # the top suggestion refused the complaint: never an acceptance
        ("not_our_authority", names[0]),
        ("archived", names[0]),  # decides nothing: not in the denominator
    ]
    for i, (action, chosen) in enumerate(decisions):
        body = {
            "complaint_id": f"C-{i}",
            "text": ROAD,
            "suggested": names,
            "chosen_agency": chosen,
            "action": action,
            "admin": "ani",
            "model_version": top["model_version"],
            "idempotency_key": f"acc-{i}",
        }
        assert client.post("/v1/feedback", json=body, headers=AUTH).status_code == 201
    return names


def test_stats_and_report_agree_on_accepted(client, app):
    from training.learning.feedback import read_feedback_frame
    from training.learning.report import report_tables

    names = _post_all(client)
    total = client.get("/v1/stats").get_json()["total"]
    assert total["n"] == 5 and total["decided"] == 4
    assert total["top1_accepted_share"] == 0.25  # 1 of 4 decisions; the two not_our_authority do not count
    assert total["in_top3_share"] == 0.5

    url = app.extensions["disposisi"].store.url
    frame = read_feedback_frame(url)
    tables = report_tables(frame)
    assert tables["decided"] == total["decided"]
    assert tables["accepted"] / tables["decided"] == total["top1_accepted_share"]
    by_top = tables["most_corrected"].set_index("top")
    assert int(by_top.loc[names[0], "corrected"]) == 3


def test_api_refuses_an_empty_chosen_agency_as_the_docs_say(client):
    top = client.post("/v1/suggest", json={"text": ROAD}).get_json()
    body = {
        "complaint_id": "C-x",
        "text": ROAD,
        "suggested": [s["agency"] for s in top["suggestions"]],
        "chosen_agency": "",
        "action": "not_our_authority",
        "admin": "ani",
        "model_version": top["model_version"],
    }
    r = client.post("/v1/feedback", json=body, headers=AUTH)
    assert r.status_code in (400, 422)
    docs = " ".join((ROOT / "docs" / "learning.md").read_text(encoding="utf-8").split())
    assert "`chosen_agency` is required by `POST /v1/feedback` for every action" in docs
    assert "A `not_our_authority` is never an acceptance" in docs
    assert "if empty, the top suggestion): that" not in docs  # the old, wrong promise


@pytest.mark.parametrize(
    "action,suggested,chosen,expected",
    [
        ("accepted", ["A", "B"], "A", True),
        ("corrected", ["A", "B"], "A", True),
        ("corrected", ["A", "B"], "B", False),
        ("not_our_authority", ["A", "B"], "A", False),
        ("archived", ["A"], "A", False),
        ("accepted", [], "A", False),
    ],
)
def test_accepted_as_suggested(action, suggested, chosen, expected):
    assert schema.accepted_as_suggested(action, suggested, chosen) is expected


def test_store_migration_and_learning_share_one_schema(tmp_path):
    from service import store
    from service.db import upgrade
    from training.learning import feedback as learning_feedback

    assert store.feedback is schema.feedback
    assert learning_feedback.REQUIRED_COLUMNS == schema.REQUIRED_COLUMNS
    assert set(learning_feedback.ACTIONS) == set(schema.ACTIONS) == set(store.ACTIONS)
    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    upgrade(url)  # the Alembic migration creates the table
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        # the record's columns, then the two the service derives for Monev (0007_monev_rank, monev_columns), which
        # the record, its export and the learning loop never carry
        assert [c["name"] for c in inspector.get_columns("feedback")] == [*schema.COLUMNS, *schema.DERIVED_COLUMNS]
        assert {i["name"] for i in inspector.get_indexes("feedback")} == {i.name for i in schema.feedback.indexes}
    finally:
        engine.dispose()
    migration = (ROOT / "service" / "migrations" / "versions" / "0001_feedback.py").read_text(encoding="utf-8")
    assert "feedback_columns()" in migration and "sa.Column(" not in migration
