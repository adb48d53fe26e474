"""Feedback as labels: semantics, the database path, and bad feedback refused (no training needed)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa
from learning_helpers import DINSOS, PERIKANAN_QUERY, feedback_frame

from routing_model.text.cleaning import clean
from training.learning.feedback import FeedbackError, feedback_labels, load_feedback, read_feedback_frame


@pytest.fixture()
def feedback_csv(tmp_path):
    path = tmp_path / "feedback.csv"
    feedback_frame().to_csv(path, index=False)
    return path


def test_feedback_semantics(feedback_csv, registry):
    fb = load_feedback(str(feedback_csv), registry)
    raw = feedback_frame()
    counts = fb.counts
    assert counts["rows_read"] == len(raw)
    assert counts["archived"] == 1
    assert counts["confidential_no_text"] == 1
    assert counts["not_our_authority"] == 1
    assert counts["superseded"] == 1
    # the twice-decided complaint: one label, the later decision, and a reported conflict
    twice = raw.iloc[3]["complaint_id"]
    kept = fb.labels[fb.labels["complaint_id"] == twice]
    assert kept["agency"].tolist() == [DINSOS]
    assert [c["complaint_id"] for c in fb.conflicts] == [twice]
    # confidential and archived complaints never become labels; not_our_authority becomes a negative pair
    assert not {"CONF-1", "ARCH-1", "NOA-1"} & set(fb.labels["complaint_id"])
    assert (clean(PERIKANAN_QUERY + " Ini soal ternak.").strip(), DINSOS) in fb.negatives
    assert len(fb.labels) == counts["accepted"] + counts["corrected"]
    assert set(fb.labels["date"]) <= {f"2024-02-{d:02d}" for d in range(1, 29)}


def test_not_our_authority_without_chosen_uses_top_suggestion(registry):
    frame = feedback_frame().iloc[[2]].assign(action="not_our_authority", chosen_agency="")
    fb = feedback_labels(_parsed(frame), registry)
    top = json.loads(frame.iloc[0]["suggested"])[0]
    assert {a for _, a in fb.negatives} == {top} and len(fb.labels) == 0


def _parsed(frame, tmp=None):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "fb.csv"
    frame.to_csv(path, index=False)
    return read_feedback_frame(str(path))


def test_feedback_from_database_matches_csv(tmp_path, feedback_csv, registry):
    """The table the service creates (JSON suggested, booleans, timestamps), read by reflection."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    from service.db import upgrade

    upgrade(url)  # the service's own Alembic migration creates the table
    engine = sa.create_engine(url)
    table = sa.Table("feedback", sa.MetaData(), autoload_with=engine)
    raw = feedback_frame()
    with engine.begin() as conn:
        for r in raw.to_dict("records"):
            conn.execute(
                table.insert().values(
                    id=r["id"],
                    idempotency_key=f"k{r['id']}",
                    complaint_id=r["complaint_id"],
                    text=None if r["confidential"] else r["text"],
                    text_sha256="0" * 64,
                    confidential=bool(r["confidential"]),
                    suggested=json.loads(r["suggested"]),
                    chosen_agency=r["chosen_agency"],
                    action=r["action"],
                    admin=r["admin"],
                    model_version=r["model_version"],
                    needs_review=r["needs_review"],
                    note=None,
                    created_at=pd.Timestamp(r["created_at"]).to_pydatetime(),
                )
            )
    engine.dispose()
    from_db = load_feedback(url, registry)
    from_csv = load_feedback(str(feedback_csv), registry)
    assert from_db.counts == from_csv.counts
    assert from_db.negatives == from_csv.negatives
    cols = ["complaint_id", "agency", "date", "text"]
    pd.testing.assert_frame_equal(
        from_db.labels[cols].reset_index(drop=True), from_csv.labels[cols].reset_index(drop=True)
    )


def test_unknown_agency_is_an_error_unless_skipped(tmp_path, registry):
    frame = feedback_frame()
    frame.loc[1, "chosen_agency"] = "Dinas Urusan Naga Kab. Bandung"
    path = tmp_path / "fb.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(FeedbackError, match="Dinas Urusan Naga"):
        load_feedback(str(path), registry)
    fb = load_feedback(str(path), registry, skip_unknown=True)
    assert fb.counts["unknown_agency"] == 1 and fb.unknown_agencies == {"Dinas Urusan Naga Kab. Bandung": 1}


def test_missing_columns_named(tmp_path, registry):
    path = tmp_path / "fb.csv"
    feedback_frame().drop(columns=["chosen_agency", "created_at"]).to_csv(path, index=False)
    with pytest.raises(FeedbackError, match="chosen_agency, created_at"):
        load_feedback(str(path), registry)


def test_bad_action_and_date_refused(tmp_path, registry):
    frame = feedback_frame()
    frame.loc[0, "action"] = "deleted"
    frame.to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(FeedbackError, match="unknown action"):
        load_feedback(str(tmp_path / "a.csv"), registry)
    frame = feedback_frame()
    frame.loc[0, "created_at"] = "yesterday-ish"
    frame.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(FeedbackError, match="created_at"):
        load_feedback(str(tmp_path / "b.csv"), registry)


def test_feedback_read_from_elsewhere_is_masked_and_confidential_rows_keep_no_text(tmp_path):
    """A CSV export may hold what the service would never store: reading it masks the same way."""
    frame = feedback_frame().head(3).copy()
    frame["text"] = frame["text"].astype(str) + " Saya Zulkarnaen Wirabhumi NIK 3204123456789012 hp 081234567890"
    frame["note"] = "pelapor Budi Santoso hp 081234567890"
    frame["confidential"] = [True, False, False]
    frame.loc[1, "complaint_id"] = "LAPOR 081234567890"
    path = tmp_path / "fb.csv"
    frame.to_csv(path, index=False)
    read = read_feedback_frame(str(path))
    assert pd.isna(read.loc[0, "text"]) and pd.isna(read.loc[0, "note"])
    flat = read[["text", "note", "complaint_id", "admin"]].astype(str).to_string()
    for secret in ("Zulkarnaen", "Wirabhumi", "3204123456789012", "081234567890", "Budi", "Santoso"):
        assert secret not in flat, flat
    assert "xnamax" in read.loc[1, "text"] and read.loc[1, "complaint_id"] == "LAPOR xteleponx"
