"""The feedback store: what admins actually did with each suggestion, kept durably.

SQLite (WAL, ``synchronous=FULL``) by default, PostgreSQL when the URL says
``postgresql+psycopg://``. The schema is created and upgraded by ``service.db.upgrade``
(``disposisi db upgrade``), never here. Every write is committed before it returns.

The learning loop reads the ``feedback`` table; ``FeedbackStore(url).export_rows()`` is the
supported way to do so.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from routing_model.io.feedback_schema import (
    ACTIONS,
    DECIDED_ACTIONS,
    DERIVED_COLUMNS,
    accepted_as_suggested,
    in_top3,
)
from routing_model.model.live_guard import Outcome

from . import fields
from .clock import Clock
from .db import StoreError, as_utc, check_current, create_engine, feedback, iso_z

log = logging.getLogger(__name__)

# The table is defined once, in routing_model.io.feedback_schema (service.db's metadata and training/learning/ use it too).
__all__ = ["ACTIONS", "FeedbackInput", "FeedbackStore", "StoreError", "feedback"]


@dataclass(frozen=True)
class FeedbackInput:
    """One validated feedback submission (the API checks types and the agency first)."""

    idempotency_key: str
    complaint_id: str
    text: str
    suggested: list[str]
    chosen_agency: str
    action: str
    admin: str
    model_version: str
    confidential: bool = False
    needs_review: bool | None = None
    note: str | None = None
    region_slug: str = ""  # the region whose admin decided ("" the one region of `serve --model`)


def sanitised(item: FeedbackInput) -> FeedbackInput:
    """The feedback as it may be stored (``service.fields``): identifiers sanitised and
    NIK/phone-masked, the note masked, and no free text at all for a confidential complaint
    (``text`` stays only as the input of ``text_sha256``). Idempotent; raises
    ``fields.FieldError`` for a field that cannot be stored."""
    ident = fields.identifier
    return replace(
        item,
        idempotency_key=ident(item.idempotency_key, "idempotency_key"),
        complaint_id=ident(item.complaint_id, "complaint_id"),
        admin=ident(item.admin, "admin"),
        model_version=ident(item.model_version, "model_version"),
        suggested=[ident(s, "suggested", fields.MAX_NAME_CHARS) for s in item.suggested],
        chosen_agency=ident(item.chosen_agency, "chosen_agency", fields.MAX_NAME_CHARS),
        text=fields.free_text(item.text, "text"),
        note=None if item.confidential else fields.free_text(item.note, "note"),
    )


def suggested_rank(suggested: list[str], chosen: str | None) -> int | None:
    """The 1-based position of ``chosen`` among ``suggested`` (its first), None when it is not there: stored with the
    feedback (``feedback.suggested_rank``) so Monev counts top-1 (rank 1) and top-3 (rank <= 3) without reading the
    JSON; ``accepted_as_suggested`` / ``in_top3`` give the same answers for a deciding action."""
    return next((k for k, s in enumerate(suggested or [], 1) if s == chosen), None) if chosen else None


def row_to_dict(row) -> dict:
    d = {k: v for k, v in row._mapping.items() if k not in DERIVED_COLUMNS}
    d["created_at"] = iso_z(d["created_at"])
    d["suggested"] = list(d["suggested"] or [])
    return d


class FeedbackStore:
    """The feedback table of a database already at the newest schema revision (``service.db.upgrade``)."""

    def __init__(self, url: str, clock: Clock | None = None):
        self.url = url
        self.clock = clock or Clock()
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect.name
        try:
            check_current(self.engine, url)
        except StoreError:
            self.engine.dispose()
            raise

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure as "not ready"
            log.warning("feedback database not reachable: %s", type(exc).__name__)
            return False

    def close(self) -> None:
        self.engine.dispose()

    # -- writes ---------------------------------------------------------------------------
    def add(self, item: FeedbackInput) -> tuple[dict, bool]:
        """Store one feedback (committed on return); ``(record, created)``.

        A second call with the same idempotency key stores nothing and returns the first record.
        The record is ``sanitised(item)``: nothing unmasked or unsanitised is ever written.
        """
        item = sanitised(item)
        existing = self.get_by_key(item.idempotency_key)
        if existing is not None:
            return existing, False
        masked = item.text  # masked by sanitised()
        values = {
            "idempotency_key": item.idempotency_key,
            "complaint_id": item.complaint_id,
            "text": None if item.confidential else masked,
            "text_sha256": hashlib.sha256(masked.encode("utf-8")).hexdigest(),
            "confidential": bool(item.confidential),
            "suggested": list(item.suggested),
            "chosen_agency": item.chosen_agency,
            "suggested_rank": suggested_rank(item.suggested, item.chosen_agency),
            "first_suggested": item.suggested[0] if item.suggested else None,
            "action": item.action,
            "admin": item.admin,
            "model_version": item.model_version,
            "needs_review": item.needs_review,
            "note": item.note,
            "region_slug": item.region_slug,
            "created_at": self.clock.now(),
        }
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(feedback.insert().values(**values)).inserted_primary_key[0]
        except IntegrityError:
            # a concurrent request with the same key won the race: answer with its record
            existing = self.get_by_key(item.idempotency_key)
            if existing is None:
                raise
            return existing, False
        return self.get(new_id), True

    # -- reads ----------------------------------------------------------------------------
    def get(self, feedback_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(feedback).where(feedback.c.id == feedback_id)).first()
        return None if row is None else row_to_dict(row)

    def get_by_key(self, key: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(feedback).where(feedback.c.idempotency_key == key)).first()
        return None if row is None else row_to_dict(row)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(feedback)).scalar_one())

    def export_rows(self) -> list[dict]:
        """Every feedback row as a dict (column name -> value), oldest first; for the learning loop."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(feedback).order_by(feedback.c.id)).all()
        return [row_to_dict(r) for r in rows]

    def auto_outcomes(self, since: datetime, region: str | None = None) -> list[Outcome]:
        """Decided auto-suggestions (``needs_review`` false) since ``since`` (of one region's model when
        ``region`` is given), for the live guard: when, the first suggestion, and whether the admin kept it."""
        cols = (feedback.c.created_at, feedback.c.suggested, feedback.c.chosen_agency, feedback.c.action)
        query = sa.select(*cols).where(
            feedback.c.needs_review.is_(False), feedback.c.action.in_(DECIDED_ACTIONS), feedback.c.created_at >= since
        )
        if region is not None:
            query = query.where(feedback.c.region_slug == region)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Outcome(as_utc(when), str(list(suggested)[0]), accepted_as_suggested(action, suggested, chosen))
            for when, suggested, chosen, action in rows
            if suggested
        ]

    def stats(self, region: str | None = None) -> dict:
        """Per chosen agency and per model version: how the suggestions fared (in one region when given)."""
        cols = (
            feedback.c.suggested,
            feedback.c.chosen_agency,
            feedback.c.model_version,
            feedback.c.needs_review,
            feedback.c.action,
        )
        by_agency: dict[str, _Tally] = {}
        by_version: dict[str, _Tally] = {}
        total = _Tally()
        with self.engine.connect() as conn:
            query = sa.select(*cols)
            if region is not None:
                query = query.where(feedback.c.region_slug == region)
            for suggested, chosen, version, needs_review, action in conn.execute(query).yield_per(2000):
                for tally in (by_agency.setdefault(chosen, _Tally()), by_version.setdefault(version, _Tally()), total):
                    tally.add(list(suggested or []), chosen, needs_review, action)
        return {
            "total": total.as_dict(),
            "by_agency": {k: v.as_dict() for k, v in sorted(by_agency.items())},
            "by_model_version": {k: v.as_dict() for k, v in sorted(by_version.items())},
        }


class _Tally:
    """Counts for /v1/stats; acceptance as defined in routing_model.io.feedback_schema (the report uses it too)."""

    __slots__ = ("n", "decided", "top1", "top3", "review_known", "review", "actions")

    def __init__(self):
        self.n = self.decided = self.top1 = self.top3 = self.review_known = self.review = 0
        self.actions: dict[str, int] = {}

    def add(self, suggested: list[str], chosen: str, needs_review, action: str) -> None:
        self.n += 1
        self.decided += action in DECIDED_ACTIONS
        self.top1 += accepted_as_suggested(action, suggested, chosen)
        self.top3 += in_top3(action, suggested, chosen)
        if needs_review is not None:
            self.review_known += 1
            self.review += bool(needs_review)
        self.actions[action] = self.actions.get(action, 0) + 1

    def as_dict(self) -> dict:
        def share(a: int, b: int):
            return round(a / b, 4) if b else None

        return {
            "n": self.n,
            "decided": self.decided,
            "top1_accepted_share": share(self.top1, self.decided),
            "in_top3_share": share(self.top3, self.decided),
            "needs_review_share": share(self.review, self.review_known),
            "needs_review_known": self.review_known,
            "actions": dict(sorted(self.actions.items())),
        }
