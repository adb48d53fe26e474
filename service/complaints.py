"""The desk's complaint store: imported complaints, their suggestion, SLA due dates and the admin's decision.

Lives in the feedback store's database (same engine; tables defined in ``service.db``). Every
decision is *also* written as an ordinary feedback record through ``FeedbackStore.add`` — the
records ``/v1/feedback`` writes and ``disposisi retrain`` reads — and undoing it (same day only)
deletes that record again, so the learning loop never sees a decision the admin took back.

Text is masked before it is stored; a Rahasia (confidential) complaint keeps no text at all: only
its id, dates and suggestions.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from routing_model.io.tabular import LAPOR_COLUMNS, TableError, column_name
from routing_model.text.cleaning import mask_personal_data

from . import sla
from .accounts import write_audit
from .complaint_errors import DeskError
from .db import as_utc, complaints, duplicates, feedback, forwards, iso_z
from .duplicates import WINDOW_DAYS, Doc, find_duplicates
from .forwards import LAPOR_PENDING, Destinations, Target, forwards_of, move, record_forward, resolve_destination
from .search import search_clause
from .store import FeedbackInput, FeedbackStore

if TYPE_CHECKING:  # imported where dates are parsed or a table is written: a serving worker should not
    import pandas as pd  # pay ~40 MB for pandas until someone imports or exports complaints

log = logging.getLogger(__name__)

DECISIONS = ("accepted", "corrected", "not_our_authority", "duplicate")
# a desk decision -> the feedback action the learning loop understands (docs/learning.md)
FEEDBACK_ACTION = {
    "accepted": "accepted",
    "corrected": "corrected",
    "not_our_authority": "not_our_authority",
    "duplicate": "archived",
}
STATUSES = ("open", "decided", "all")
MAX_ID_CHARS = 200
MAX_IMPORT_ROWS = 50_000
PAGE_SIZE = 50
_DATE_COLUMNS = {"id", "date", "Waktu Laporan Masuk", "received"}  # kept for confidential complaints


@dataclass
class NewComplaint:
    """One validated complaint to import (text not yet masked)."""

    id: str
    received_at: datetime
    text: str
    title: str | None = None
    confidential: bool = False
    source: list = field(default_factory=list)  # [[column, value], ...] as imported


@dataclass
class ImportResult:
    added: int
    skipped_existing: int
    skipped_repeated: int
    duplicates_found: int
    ids: list[str]

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "skipped_existing": self.skipped_existing,
            "skipped_repeated": self.skipped_repeated,
            "duplicates_found": self.duplicates_found,
            "ids": self.ids,
        }


# -- reading complaints from a table or JSON -------------------------------------------------------
def _cell(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = str(value).strip()
    return value or None


def _is_confidential(value) -> bool:
    if isinstance(value, bool):
        return value
    value = (_cell(value) or "").lower()
    return "rahasia" in value or value in {"true", "1", "ya", "yes"}


def parse_received(value, time_value=None) -> datetime | None:
    """A received date (and optional time) as a naive local datetime; None if it does not parse."""
    value = _cell(value)
    if value is None:
        return None
    if time_value is not None and _cell(time_value) and len(value) <= 10:
        value = f"{value} {_cell(time_value)}"
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(sla.LOCAL_TZ).tz_localize(None)
    if not 2000 <= stamp.year <= 2100:
        return None
    return stamp.to_pydatetime()


def complaints_from_frame(frame: pd.DataFrame, name: str) -> list[NewComplaint]:
    """The complaints of a table read by ``read_table``; a TableError lists the rows it cannot take."""
    if len(frame) == 0:
        raise TableError(f"{name}: tidak ada pengaduan di berkas ini (the file has no complaints)")
    if len(frame) > MAX_IMPORT_ROWS:
        raise TableError(f"{name}: {len(frame):,} baris; batasnya {MAX_IMPORT_ROWS:,} per impor")
    lapor = frame.attrs.get("source_format") == "lapor_xlsx"
    if not lapor:  # a CSV saved from the LAPOR! export keeps its Indonesian column names
        renamed = {k: v for k, v in LAPOR_COLUMNS.items() if k in frame.columns and v not in frame.columns}
        if renamed:
            frame = frame.rename(columns=renamed)
            lapor = True
    cols = {role: column_name(frame, role) for role in ("id", "text", "date", "title", "confidentiality")}
    if cols["date"] not in frame.columns and "received" in frame.columns:
        cols["date"] = "received"
    missing = [role for role in ("id", "text", "date") if cols[role] not in frame.columns]
    if missing:
        wanted = {"id": "Tracking ID (id)", "text": "Isi Laporan Awal (text)", "date": "Tanggal Laporan Masuk (date)"}
        raise TableError(
            f"{name}: bukan ekspor SP4N-LAPOR! 'Laporan Ringkas' atau CSV pengaduan — kolom tidak ada: "
            f"{', '.join(wanted[m] for m in missing)}; kolom yang ada: {', '.join(map(str, frame.columns[:12]))}"
        )
    conf_col = (
        cols["confidentiality"]
        if cols["confidentiality"] in frame.columns
        else ("confidential" if "confidential" in frame.columns else None)
    )
    original = {v: k for k, v in LAPOR_COLUMNS.items()} if lapor else {}
    first_row = int(frame.attrs.get("first_data_row", 2))
    out, bad = [], []
    time_col = "Waktu Laporan Masuk" if "Waktu Laporan Masuk" in frame.columns else None
    for offset, row in enumerate(frame.to_dict("records")):
        rid = _cell(row.get(cols["id"]))
        received = parse_received(row.get(cols["date"]), row.get(time_col) if time_col else None)
        problems = []
        if rid is None:
            problems.append("Tracking ID kosong")
        elif len(rid) > MAX_ID_CHARS:
            problems.append("Tracking ID terlalu panjang")
        if received is None:
            problems.append(f"tanggal tidak terbaca ({_cell(row.get(cols['date']))!r})")
        if problems:
            bad.append(f"baris {first_row + offset}: {', '.join(problems)}")
            continue
        source = [[original.get(c, c), _cell(v)] for c, v in row.items()]
        out.append(
            NewComplaint(
                id=rid,
                received_at=received,
                text=_cell(row.get(cols["text"])) or "",
                title=_cell(row.get(cols["title"])) if cols["title"] in frame.columns else None,
                confidential=_is_confidential(row.get(conf_col)) if conf_col else False,
                source=source,
            )
        )
    if bad:
        more = f" (dan {len(bad) - 5} lagi)" if len(bad) > 5 else ""
        raise TableError(
            f"{name}: {len(bad)} baris tidak bisa diimpor, tidak ada yang disimpan: {'; '.join(bad[:5])}{more}"
        )
    return out


def complaints_from_json(items, max_text_chars: int) -> list[NewComplaint]:
    """``POST /v1/complaints``: a list of {id, text, received, title?, confidential?}; a DeskError names the item."""
    if not isinstance(items, list):
        raise DeskError('the body must be a JSON array of complaints (or {"complaints": [...]})')
    if not items:
        raise DeskError("no complaints in the body", "empty_import")
    if len(items) > MAX_IMPORT_ROWS:
        raise DeskError(f"{len(items):,} complaints; the limit is {MAX_IMPORT_ROWS:,} per request", "too_many_items")
    out = []
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise DeskError(f"{where}: each complaint must be an object with id, text and received")
        rid = item.get("id")
        if (
            isinstance(rid, bool)
            or not isinstance(rid, (str, int))
            or not str(rid).strip()
            or len(str(rid)) > MAX_ID_CHARS
        ):
            raise DeskError(
                f"{where}: 'id' must be a non-empty string of at most {MAX_ID_CHARS} characters", "missing_field"
            )
        text = item.get("text")
        confidential = item.get("confidential", False)
        if not isinstance(confidential, bool):
            raise DeskError(f"{where}: 'confidential' must be true or false")
        if not isinstance(text, str) or (not text.strip() and not confidential):
            raise DeskError(f"{where}: 'text' must be a non-empty string", "missing_field")
        if len(text) > max_text_chars:
            raise DeskError(
                f"{where}: 'text' has {len(text):,} characters; the limit is {max_text_chars:,}", "text_too_long"
            )
        received = parse_received(item.get("received"))
        if received is None:
            raise DeskError(f"{where}: 'received' must be a date or date-time (ISO 8601)", "invalid_date")
        title = item.get("title")
        if title is not None and not isinstance(title, str):
            raise DeskError(f"{where}: 'title' must be a string")
        source = [
            ["Tracking ID", str(rid)],
            ["Tanggal Laporan Masuk", received.isoformat(sep=" ")],
            ["Judul Laporan", title],
            ["Isi Laporan Awal", text],
        ]
        out.append(
            NewComplaint(
                id=str(rid).strip(),
                received_at=received,
                text=text,
                title=title,
                confidential=confidential,
                source=source,
            )
        )
    return out


# -- the store ---------------------------------------------------------------------------------------
def queue_conditions(
    dialect: str,
    region: str | None,
    today: date,
    status: str = "open",
    overdue: bool = False,
    needs_review: bool = False,
    agency: str | None = None,
    q: str | None = None,
) -> list:
    """The WHERE conditions of a queue page (combined with AND): ``region``'s complaints (None: every region's, for
    a deployment-wide look that no route offers yet; the benchmark measures it), by status, overdue on ``today``,
    needing review, agency and text search (``service.search``)."""
    where = [] if region is None else [complaints.c.region_slug == region]
    if status != "all":
        where.append(complaints.c.status == status)
    if overdue:
        where += [complaints.c.status == "open", complaints.c.due < today]
    if needs_review:
        where.append(complaints.c.needs_review.is_(True))
    if agency:
        where.append(complaints.c.agency == agency)
    found = search_clause(q, dialect) if q else None
    if found is not None:
        where.append(found)
    return where


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=sla.LOCAL_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)


def _confidential_source(source: list) -> list:
    keep = _DATE_COLUMNS | {LAPOR_COLUMNS_REV.get(c, c) for c in _DATE_COLUMNS}
    return [[c, v if c in keep else None] for c, v in source]


LAPOR_COLUMNS_REV = {v: k for k, v in LAPOR_COLUMNS.items()}


def _mask_source(source: list) -> list:
    return [[c, mask_personal_data(v) if isinstance(v, str) else v] for c, v in source]


class ComplaintStore:
    """Import, list, decide and undo, over the feedback store's database."""

    def __init__(self, store: FeedbackStore):
        self.store = store
        self.engine = store.engine
        self.clock = store.clock  # one clock for the decisions and the feedback records they write

    # -- import ---------------------------------------------------------------------------
    def import_complaints(
        self,
        items: list[NewComplaint],
        model,
        withdrawn: dict[str, dict] | None = None,
        region: str = "",
        retry: bool = True,
    ) -> ImportResult:
        """Suggest each new complaint once, with ``model`` (the model of ``region``, and the live guard's
        ``withdrawn``), and store them all in one transaction into the queue of ``region``.

        Complaints whose Tracking ID is already stored (or repeated in ``items``) are skipped; near-duplicates are
        looked for within the region only.
        """
        seen, fresh, repeated = set(), [], 0
        for item in items:
            if item.id in seen:
                repeated += 1
                continue
            seen.add(item.id)
            fresh.append(item)
        existing = set()
        ids = [c.id for c in fresh]
        with self.engine.connect() as conn:
            for lo in range(0, len(ids), 500):
                existing.update(
                    conn.execute(sa.select(complaints.c.id).where(complaints.c.id.in_(ids[lo : lo + 500]))).scalars()
                )
        fresh = [c for c in fresh if c.id not in existing]
        if not fresh:
            return ImportResult(0, len(existing), repeated, 0, [])

        masked = [mask_personal_data(c.text) if c.text else "" for c in fresh]
        suggestions: list[dict | None] = [None] * len(fresh)
        routable = [i for i, t in enumerate(masked) if t.strip()]
        for i, s in zip(
            routable, model.suggest([masked[i] for i in routable], k=3, withdrawn=withdrawn) if routable else []
        ):
            suggestions[i] = s.to_dict()
        dups = find_duplicates(
            [Doc(c.id, c.received_at.date(), t) for c, t in zip(fresh, masked) if not c.confidential],
            self._window_docs(fresh, region),
        )
        now = self.clock.now()
        rows = []
        for c, text, sug in zip(fresh, masked, suggestions):
            sug = sug or {"suggestions": [], "needs_review": True, "reasons": [], "warnings": ["empty_text"]}
            due, follow_up = sla.due_dates(c.received_at.date())
            rows.append(
                {
                    "id": c.id,
                    "received_at": c.received_at,
                    "due": due,
                    "follow_up_due": follow_up,
                    "title": None if c.confidential or not c.title else mask_personal_data(c.title),
                    "text": None if c.confidential else text,
                    "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    "confidential": c.confidential,
                    "source": _confidential_source(c.source) if c.confidential else _mask_source(c.source),
                    "suggestions": sug["suggestions"],
                    "reasons": [] if c.confidential else sug["reasons"],
                    "warnings": sug["warnings"],
                    "outside_region": sug.get("outside_region"),
                    "needs_review": bool(sug["needs_review"]),
                    "model_version": model.version,
                    "agency": sug["suggestions"][0]["agency"] if sug["suggestions"] else "",
                    "status": "open",
                    "imported_at": now,
                    "region_slug": region,
                }
            )
        dup_rows = [
            {"complaint_id": cid, "earlier_id": eid, "similarity": s} for cid, found in dups.items() for eid, s in found
        ]
        try:
            with self.engine.begin() as conn:
                for lo in range(0, len(rows), 1000):
                    conn.execute(complaints.insert(), rows[lo : lo + 1000])
                if dup_rows:
                    conn.execute(duplicates.insert(), dup_rows)
        except sa.exc.IntegrityError:
            if not retry:
                raise
            # another process stored some of these ids since we looked (two servers importing one export):
            # nothing of ours was written; once more, and those complaints count as already stored
            log.info("import raced another writer on the same Tracking IDs; importing again")
            return self.import_complaints(items, model, withdrawn, region, retry=False)
        log.info(
            "imported %d complaints (%d already stored, %d near-duplicate links)",
            len(rows),
            len(existing),
            len(dup_rows),
        )
        return ImportResult(len(rows), len(existing), repeated, len(dups), [r["id"] for r in rows])

    def _window_docs(self, fresh: list[NewComplaint], region: str) -> list[Doc]:
        lo = min(c.received_at for c in fresh) - timedelta(days=WINDOW_DAYS)
        hi = max(c.received_at for c in fresh) + timedelta(days=1)
        q = sa.select(complaints.c.id, complaints.c.received_at, complaints.c.text).where(
            complaints.c.region_slug == region,
            complaints.c.received_at >= lo,
            complaints.c.received_at < hi,
            complaints.c.text.is_not(None),
        )
        with self.engine.connect() as conn:
            return [Doc(i, r.date(), t) for i, r, t in conn.execute(q)]

    # -- reads ----------------------------------------------------------------------------
    def get(self, complaint_id: str, region: str = "") -> dict | None:
        """The complaint in the queue of ``region``; None when it is not there (missing, or another region's)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(complaints).where(complaints.c.id == complaint_id, complaints.c.region_slug == region)
            ).first()
            if row is None:
                return None
            item = self._item(row, today=self.clock.today())
            item["duplicates"] = self._duplicates(conn, [complaint_id]).get(complaint_id, [])
            item["forwards"] = forwards_of(conn, complaint_id)
            later = (
                conn.execute(
                    sa.select(duplicates.c.complaint_id)
                    .where(duplicates.c.earlier_id == complaint_id)
                    .order_by(duplicates.c.complaint_id)
                )
                .scalars()
                .all()
            )
            item["repeated_by"] = list(later)
        return item

    def exists(self, complaint_id: str, region: str = "") -> bool:
        with self.engine.connect() as conn:
            found = sa.select(complaints.c.id).where(
                complaints.c.id == complaint_id, complaints.c.region_slug == region
            )
            return conn.execute(found).first() is not None

    def queue(
        self,
        status: str = "open",
        overdue: bool = False,
        needs_review: bool = False,
        agency: str | None = None,
        q: str | None = None,
        page: int = 1,
        per_page: int = PAGE_SIZE,
        today: date | None = None,
        region: str = "",
    ) -> dict:
        """One page of the queue of ``region``, newest deadline first; filters combine with AND."""
        if status not in STATUSES:
            raise DeskError(f"'status' must be one of {', '.join(STATUSES)}")
        if page < 1 or not 1 <= per_page <= 200:
            raise DeskError("'page' must be at least 1 and 'per_page' between 1 and 200")
        today = today or self.clock.today()
        where = queue_conditions(self.engine.dialect.name, region, today, status, overdue, needs_review, agency, q)
        with self.engine.connect() as conn:
            return self.queue_page(conn, where, today, page, per_page)

    def queue_page(self, conn, where: list, today: date, page: int = 1, per_page: int = PAGE_SIZE) -> dict:
        """The page of complaints matching ``where`` (``queue_conditions``), newest deadline first, with the total
        and each item's duplicates: the queries the desk's queue runs (``bench/bench_storage.py`` times them)."""
        order = (complaints.c.due.desc(), complaints.c.id.desc())
        total = conn.execute(sa.select(sa.func.count()).select_from(complaints).where(*where)).scalar_one()
        rows = conn.execute(
            sa.select(complaints).where(*where).order_by(*order).limit(per_page).offset((page - 1) * per_page)
        ).all()
        dups = self._duplicates(conn, [r.id for r in rows])
        items = []
        for row in rows:
            item = self._item(row, today, brief=True)
            item["duplicates"] = dups.get(row.id, [])
            items.append(item)
        pages = max(1, math.ceil(total / per_page))
        return {"items": items, "total": int(total), "page": page, "pages": pages, "per_page": per_page}

    def neighbours(self, complaint_id: str, region: str = "") -> tuple[str | None, str | None]:
        """(previous, next) open complaint of ``region`` around this one in queue order (newest deadline first)."""
        with self.engine.connect() as conn:
            cur = conn.execute(
                sa.select(complaints.c.due, complaints.c.id).where(
                    complaints.c.id == complaint_id, complaints.c.region_slug == region
                )
            ).first()
            if cur is None:
                return None, None
            due, cid = cur
            c = complaints.c
            after = sa.and_(c.region_slug == region, sa.or_(c.due < due, sa.and_(c.due == due, c.id < cid)))
            before = sa.and_(c.region_slug == region, sa.or_(c.due > due, sa.and_(c.due == due, c.id > cid)))
            nxt = conn.execute(
                sa.select(c.id).where(c.status == "open", after).order_by(c.due.desc(), c.id.desc()).limit(1)
            ).scalar()
            prev = conn.execute(
                sa.select(c.id).where(c.status == "open", before).order_by(c.due, c.id).limit(1)
            ).scalar()
        return prev, nxt

    def agencies_in_queue(self, region: str = "") -> list[str]:
        query = (
            sa.select(complaints.c.agency)
            .where(complaints.c.region_slug == region)
            .distinct()
            .order_by(complaints.c.agency)
        )
        with self.engine.connect() as conn:
            return [a for a in conn.execute(query).scalars() if a]

    @staticmethod
    def _duplicates(conn, ids: list[str]) -> dict[str, list[dict]]:
        if not ids:
            return {}
        out: dict[str, list[dict]] = {}
        q = sa.select(duplicates).where(duplicates.c.complaint_id.in_(ids)).order_by(duplicates.c.similarity.desc())
        for cid, eid, s in conn.execute(q):
            out.setdefault(cid, []).append({"id": eid, "similarity": s})
        return out

    @staticmethod
    def _item(row, today: date, brief: bool = False) -> dict:
        m = row._mapping
        received = m["received_at"]
        clock = sla.clock(received.date(), m["due"], today, open_=m["status"] == "open")
        item = {
            "id": m["id"],
            "received": received.isoformat(timespec="minutes"),
            **clock,
            "follow_up_due": m["follow_up_due"].isoformat(),
            "suggestions": list(m["suggestions"] or []),
            "needs_review": bool(m["needs_review"]),
            "outside_region": m["outside_region"],
            "status": m["status"],
            "agency": m["agency"] or None,
            "title": m["title"],
            "confidential": bool(m["confidential"]),
            "model_version": m["model_version"],
            "decision": None
            if m["status"] != "decided"
            else {
                "action": m["action"],
                "agency": m["agency"] or None,
                "destination": m["destination"],
                "duplicate_of": m["duplicate_of"],
                "decided_by": m["decided_by"],
                "decided_at": iso_z(m["decided_at"]),
                "feedback_id": m["feedback_id"],
            },
        }
        if not brief:
            item.update(
                {
                    "text": m["text"],
                    "reasons": list(m["reasons"] or []),
                    "warnings": list(m["warnings"] or []),
                    "source": m["source"],
                }
            )
        return item

    # -- decisions ------------------------------------------------------------------------
    def decide(
        self,
        complaint_id: str,
        action: str,
        admin: str,
        registry,
        agency: str | None = None,
        destination: str | None = None,
        duplicate_of: str | None = None,
        region: str = "",
        destinations: Destinations | None = None,
    ) -> dict:
        """Record an admin's decision in ``region``: the complaint row and a feedback record, or nothing at all.

        "Not our authority" to a region the deployment serves (``destinations``) moves the complaint there instead
        (``service.forwards.move``) and answers the forward (``{"id", "forward"}``); to anywhere else it is decided and
        recorded for forwarding in LAPOR!."""
        if action not in DECISIONS:
            raise DeskError(f"'action' must be one of {', '.join(DECISIONS)}", "invalid_action")
        item = self.get(complaint_id, region)
        if item is None:
            self._moved_away(complaint_id, region)
            raise DeskError(f"pengaduan {complaint_id!r} tidak ada (no such complaint)", "not_found", 404)
        if item["status"] != "open":
            d = item["decision"]
            raise DeskError(
                f"pengaduan {complaint_id} sudah diputuskan ({d['action']}) oleh {d['decided_by']}; "
                "batalkan dulu keputusan itu untuk mengubahnya",
                "already_decided",
                409,
            )
        suggested = [s["agency"] for s in item["suggestions"]]
        top = suggested[0] if suggested else ""
        note = None
        if action in ("accepted", "corrected"):
            if not agency or not str(agency).strip():
                if action == "corrected" or not top:
                    raise DeskError("pilih instansi (choose an agency)", "missing_field")
                agency = top
            chosen = registry.resolve(str(agency))
            if chosen is None:
                raise DeskError(
                    f"instansi {agency!r} tidak ada di daftar instansi (not an agency in the registry)",
                    "unknown_agency",
                )
            if not registry.get(chosen).active:
                raise DeskError(f"instansi {chosen!r} sudah tidak aktif; pilih penggantinya", "retired_agency")
            if action == "accepted" and chosen not in suggested:
                action = "corrected"  # accepting an agency the model did not suggest is a correction
        elif action == "not_our_authority":
            destination = (destination or "").strip() or ((item["outside_region"] or {}).get("region") or "")
            if not destination:
                raise DeskError("tulis ke mana pengaduan ini harus diteruskan (destination)", "missing_field")
            if len(destination) > 300:
                raise DeskError("tujuan terlalu panjang (at most 300 characters)")
            served = destinations.served() if destinations is not None else {}
            target = resolve_destination(destination, served) if served else Target(None, destination)
            if target.slug == region and served:
                raise DeskError("pengaduan ini sudah di wilayah tersebut; pilih tujuan lain", "same_region", 400)
            if target.slug is not None:
                forward = move(self, item, region, target, admin, destinations)
                self._forward_feedback(item, region, admin, target)
                return {"id": complaint_id, "status": "forwarded", "forward": forward}
            destination = target.name
            chosen, note = top, f"bukan wewenang; teruskan ke: {destination}"
        else:  # duplicate
            duplicate_of = (duplicate_of or "").strip()
            if not duplicate_of:
                raise DeskError("sebutkan pengaduan yang diduplikasi (duplicate_of)", "missing_field")
            if duplicate_of == complaint_id:
                raise DeskError("pengaduan tidak bisa menjadi duplikat dirinya sendiri")
            if not self.exists(duplicate_of, region):
                raise DeskError(f"pengaduan {duplicate_of!r} tidak ada (no such complaint)", "unknown_complaint")
            chosen, note = top, f"duplikat dari {duplicate_of}"

        now = self.clock.now()
        # claim the complaint first (only one decision can win), then write the feedback record
        with self.engine.begin() as conn:
            claimed = conn.execute(
                complaints.update()
                .where(
                    complaints.c.id == complaint_id, complaints.c.status == "open", complaints.c.region_slug == region
                )
                .values(
                    status="decided",
                    action=action,
                    decided_at=now,
                    decided_by=admin,
                    agency=chosen if action in ("accepted", "corrected") else item["agency"] or "",
                    destination=destination if action == "not_our_authority" else None,
                    duplicate_of=duplicate_of if action == "duplicate" else None,
                )
            ).rowcount
        if claimed != 1:
            raise DeskError(f"pengaduan {complaint_id} baru saja diputuskan oleh admin lain", "already_decided", 409)
        try:
            with self.engine.connect() as conn:
                text = conn.execute(sa.select(complaints.c.text).where(complaints.c.id == complaint_id)).scalar_one()
            record, _ = self.store.add(
                FeedbackInput(
                    idempotency_key=f"desk:{complaint_id}:{now.isoformat()}",
                    complaint_id=complaint_id,
                    text=text or "",
                    suggested=suggested,
                    chosen_agency=chosen,
                    action=FEEDBACK_ACTION[action],
                    admin=admin,
                    model_version=item["model_version"],
                    confidential=item["confidential"] or text is None,
                    needs_review=item["needs_review"],
                    note=note,
                    region_slug=region,
                )
            )
        except Exception:
            self._reopen(complaint_id, item["agency"] or "")
            raise
        with self.engine.begin() as conn:
            conn.execute(complaints.update().where(complaints.c.id == complaint_id).values(feedback_id=record["id"]))
            write_audit(
                conn,
                now,
                admin,
                "decide",
                complaint_id,
                {
                    "action": action,
                    "agency": chosen if action in ("accepted", "corrected") else None,
                    "destination": destination if action == "not_our_authority" else None,
                    "duplicate_of": duplicate_of if action == "duplicate" else None,
                    "feedback_id": record["id"],
                },
                region=region,
            )
            if action == "not_our_authority":
                record_forward(conn, complaint_id, region, Target(None, destination), LAPOR_PENDING, admin, now)
        log.info("desk decision complaint=%s action=%s feedback=%s", complaint_id, action, record["id"])
        return self.get(complaint_id, region)

    def _moved_away(self, complaint_id: str, region: str) -> None:
        """409 when the complaint was just forwarded out of ``region`` (its admins see their own forwards): the
        admin who decided it at the same moment lost, as against a concurrent decision."""
        with self.engine.connect() as conn:
            gone = conn.execute(
                sa.select(forwards.c.destination, forwards.c.by)
                .where(
                    forwards.c.complaint_id == complaint_id,
                    forwards.c.from_region == region,
                    forwards.c.state == "moved",
                )
                .order_by(forwards.c.at.desc(), forwards.c.id.desc())
                .limit(1)
            ).first()
        if gone is not None:
            raise DeskError(
                f"pengaduan {complaint_id} baru saja diteruskan ke {gone.destination} oleh {gone.by}",
                "already_forwarded",
                409,
            )

    def _forward_feedback(self, item: dict, region: str, admin: str, target: Target) -> None:
        """What the region's model learns from a move: its suggestion was not this region's authority."""
        suggested = [s["agency"] for s in item["suggestions"]]
        try:
            self.store.add(
                FeedbackInput(
                    idempotency_key=f"forward:{item['id']}:{region}:{self.clock.now().isoformat()}",
                    complaint_id=item["id"],
                    text=item.get("text") or "",
                    suggested=suggested,
                    chosen_agency=suggested[0] if suggested else (item["agency"] or "-"),
                    action="not_our_authority",
                    admin=admin,
                    model_version=item["model_version"],
                    confidential=item["confidential"] or not item.get("text"),
                    needs_review=item["needs_review"],
                    note=f"bukan wewenang; diteruskan ke: {target.name}",
                    region_slug=region,
                )
            )
        except Exception:  # noqa: BLE001 - the move is done; a lost learning row must not undo it
            log.exception("forward of %s: feedback record not written", item["id"])

    def _reopen(self, complaint_id: str, agency: str, conn=None) -> None:
        values = dict(
            status="open",
            action=None,
            decided_at=None,
            decided_by=None,
            destination=None,
            duplicate_of=None,
            feedback_id=None,
            agency=agency,
        )
        stmt = complaints.update().where(complaints.c.id == complaint_id).values(**values)  # the row was claimed
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as c:
            c.execute(stmt)

    def undo(self, complaint_id: str, today: date | None = None, by: str | None = None, region: str = "") -> dict:
        """Take back today's decision in ``region``: the complaint is open again, its feedback record (and a
        pending LAPOR! forward) gone; audited as done ``by`` (a username, or the name a token decision is recorded
        under)."""
        item = self.get(complaint_id, region)
        if item is None:
            raise DeskError(f"pengaduan {complaint_id!r} tidak ada (no such complaint)", "not_found", 404)
        if item["status"] != "decided":
            raise DeskError(f"pengaduan {complaint_id} belum diputuskan; tidak ada yang dibatalkan", "not_decided", 409)
        today = today or self.clock.today()
        decided = datetime.fromisoformat(item["decision"]["decided_at"].replace("Z", "+00:00"))
        if decided.astimezone(sla.LOCAL_TZ).date() != today:
            raise DeskError(
                "keputusan hanya bisa dibatalkan pada hari yang sama (undo only until the end of the day)",
                "undo_expired",
                409,
            )
        top = item["suggestions"][0]["agency"] if item["suggestions"] else ""
        with self.engine.begin() as conn:
            if item["decision"]["feedback_id"] is not None:
                conn.execute(feedback.delete().where(feedback.c.id == item["decision"]["feedback_id"]))
            self._reopen(complaint_id, top, conn)
            conn.execute(
                forwards.delete().where(
                    forwards.c.complaint_id == complaint_id,
                    forwards.c.from_region == region,
                    forwards.c.state == LAPOR_PENDING,
                )
            )
            write_audit(
                conn,
                self.clock.now(),
                by,
                "undo",
                complaint_id,
                {"action": item["decision"]["action"]},
                region=region,
            )
        log.info("desk undo complaint=%s", complaint_id)
        return self.get(complaint_id, region)

    # -- the day's decisions ------------------------------------------------------------------
    def decided_on(self, day: date, region: str = "") -> list[dict]:
        start, end = _local_day_bounds(day)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(complaints)
                .where(
                    complaints.c.region_slug == region,
                    complaints.c.decided_at >= start,
                    complaints.c.decided_at < end,
                )
                .order_by(complaints.c.decided_at, complaints.c.id)
            ).all()
        return [self._item(r, day) for r in rows]

    def export_day(self, day: date, region: str = "") -> bytes:
        """The day's decisions of ``region`` as .xlsx: the import's original columns, then the decision columns
        (a complaint not ours says where to forward it in LAPOR!)."""
        labels = {
            "accepted": "Diterima",
            "corrected": "Dikoreksi",
            "not_our_authority": "Bukan wewenang",
            "duplicate": "Duplikat",
        }
        records, columns = [], []
        for item in self.decided_on(day, region):
            row = {}
            for col, value in item["source"]:
                if col not in row:
                    row[col] = value
                    if col not in columns:
                        columns.append(col)
            d = item["decision"]
            row.update(
                {
                    "Keputusan": labels.get(d["action"], d["action"]),
                    "Instansi Tujuan": d["agency"] if d["action"] in ("accepted", "corrected") else "",
                    "Diteruskan ke": d["destination"] or "",
                    "Teruskan di LAPOR!": f"teruskan di LAPOR! ke {d['destination']}"
                    if d["action"] == "not_our_authority" and d["destination"]
                    else "",
                    "Duplikat dari": d["duplicate_of"] or "",
                    "Diputuskan oleh": d["decided_by"],
                    "Waktu Keputusan": datetime.fromisoformat(d["decided_at"].replace("Z", "+00:00"))
                    .astimezone(sla.LOCAL_TZ)
                    .strftime("%Y-%m-%d %H:%M"),
                    "Saran Disposisi": "; ".join(s["agency"] for s in item["suggestions"]),
                    "Versi Model": item["model_version"],
                }
            )
            records.append(row)
        decision_cols = [
            "Keputusan",
            "Instansi Tujuan",
            "Diteruskan ke",
            "Teruskan di LAPOR!",
            "Duplikat dari",
            "Diputuskan oleh",
            "Waktu Keputusan",
            "Saran Disposisi",
            "Versi Model",
        ]
        import pandas as pd

        frame = pd.DataFrame(records, columns=[c for c in columns if c not in decision_cols] + decision_cols)
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name=f"Keputusan {day.isoformat()}")
        return buf.getvalue()

    # -- the head of unit's overview ---------------------------------------------------------------
    def overview(self, today: date | None = None, weeks: int = 8, region: str = "") -> dict:
        """Figures for the overview page of ``region``: per agency per week, acceptance per model version, review,
        overdue, time to decide."""
        today = today or self.clock.today()
        mine = complaints.c.region_slug == region
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(complaints).where(mine)).scalar_one()
            latest = conn.execute(sa.select(sa.func.max(complaints.c.received_at)).where(mine)).scalar()
            overdue = conn.execute(
                sa.select(sa.func.count())
                .select_from(complaints)
                .where(mine, complaints.c.status == "open", complaints.c.due < today)
            ).scalar_one()
            open_n = conn.execute(
                sa.select(sa.func.count()).select_from(complaints).where(mine, complaints.c.status == "open")
            ).scalar_one()
            review = conn.execute(
                sa.select(sa.func.count()).select_from(complaints).where(mine, complaints.c.needs_review.is_(True))
            ).scalar_one()
            per_week: dict[str, dict[date, int]] = {}
            week_starts: list[date] = []
            if latest is not None:
                last_week = latest.date() - timedelta(days=latest.weekday())
                week_starts = [last_week - timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
                rows = conn.execute(
                    sa.select(complaints.c.agency, complaints.c.received_at).where(
                        mine, complaints.c.received_at >= datetime.combine(week_starts[0], time.min)
                    )
                )
                for agency, received in rows:
                    d = received.date()
                    per_week.setdefault(agency or "(tanpa saran)", {}).setdefault(d - timedelta(days=d.weekday()), 0)
                    per_week[agency or "(tanpa saran)"][d - timedelta(days=d.weekday())] += 1
            decided = conn.execute(
                sa.select(
                    complaints.c.received_at, complaints.c.decided_at, complaints.c.action, complaints.c.model_version
                ).where(mine, complaints.c.status == "decided")
            ).all()
        by_version: dict[str, list[int]] = {}
        days_to_decide = []
        for received, decided_at, action, version in decided:
            if action != "duplicate":
                tally = by_version.setdefault(version, [0, 0])
                tally[0] += action == "accepted"
                tally[1] += 1
            local = as_utc(decided_at).astimezone(sla.LOCAL_TZ).date()
            days_to_decide.append(sla.working_days_between(received.date(), local))
        return {
            "total": int(total),
            "open": int(open_n),
            "overdue": int(overdue),
            "review_rate": (review / total) if total else None,
            "decided": len(decided),
            "median_days_to_decision": statistics.median(days_to_decide) if days_to_decide else None,
            "acceptance": {
                v: {"accepted": a, "decided": n, "rate": a / n if n else None}
                for v, (a, n) in sorted(by_version.items())
            },
            "weeks": week_starts,
            "per_agency_week": per_week,
        }
