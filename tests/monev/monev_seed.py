"""A province with known Monev figures, written with SQLAlchemy inserts into a freshly upgraded database.

Sulawesi Selatan (Kabupaten Luwu Timur, Kota Makassar, Kabupaten Gowa) and one region of another province (Kota
Samarinda, Kalimantan Timur) whose figures must never reach Sulawesi Selatan's. The scenario is laid around
``ANCHOR`` (Tuesday 30 December 2025: the period 15-30 December holds Christmas, Thursday 25 December); ``shift``
(a whole number of weeks) moves every date so the same weekdays fall around another "today". The figures the
scenario must give on the anchor dates are in ``EXPECTED`` (worked out by hand in the comments).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from service import sla
from service.db import complaints, create_engine, feedback, forwards, regions
from service.store import suggested_rank

ANCHOR = date(2025, 12, 30)  # a Tuesday
START = date(2025, 12, 15)  # Monday of ISO week 51
PROVINCE = "sulawesi-selatan"
REGIONS = [
    ("kabupaten-luwu-timur", "Kabupaten Luwu Timur", PROVINCE),
    ("kota-makassar", "Kota Makassar", PROVINCE),
    ("kabupaten-gowa", "Kabupaten Gowa", PROVINCE),
    ("kota-samarinda", "Kota Samarinda", "kalimantan-timur"),
]
A = "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Luwu Timur"
B = "Dinas Perumahan dan Kawasan Permukiman Kabupaten Luwu Timur"
C = "Dinas Lingkungan Hidup Kabupaten Luwu Timur"
D = "Badan Penanggulangan Bencana Daerah Kabupaten Luwu Timur"
X = "Dinas Kesehatan Kota Makassar"
Y = "Dinas Sosial Kota Makassar"

# (id, region, received WIB, decided WIB or None)
COMPLAINTS = [
    # 22 Dec (Mon) -> 26 Dec (Fri) 06:30 WIB, which is 25 Dec 23:30 UTC: 23, 24, (25 holiday), 26 = 3 working days
    ("LT-1", "kabupaten-luwu-timur", "2025-12-22 09:00", "2025-12-26 06:30"),
    # 24 Dec (Wed) -> 29 Dec (Mon): (25 holiday), 26, (27-28 weekend), 29 = 2
    ("LT-2", "kabupaten-luwu-timur", "2025-12-24 08:00", "2025-12-29 10:00"),
    ("LT-3", "kabupaten-luwu-timur", "2025-12-19 08:00", "2025-12-19 15:00"),  # same day = 0
    ("LT-4", "kabupaten-luwu-timur", "2025-12-16 08:00", None),  # due 19 Dec: overdue on the 30th
    ("LT-5", "kabupaten-luwu-timur", "2025-12-29 08:00", None),  # due in January: open, not overdue
    ("LT-6", "kabupaten-luwu-timur", "2025-11-03 08:00", None),  # before the period: only in "overdue now"
    ("MK-1", "kota-makassar", "2025-12-15 08:00", "2025-12-16 09:00"),  # 1
    ("MK-2", "kota-makassar", "2025-12-17 08:00", "2025-12-24 09:00"),  # 18, 19, 22, 23, 24 = 5
    ("SM-1", "kota-samarinda", "2025-12-22 08:00", None),  # another province
]
# (region, WIB time, action, suggested, chosen)
FEEDBACK = [
    ("kabupaten-luwu-timur", "2025-12-16 10:00", "accepted", [A, B, C], A),  # top-1 and top-3
    ("kabupaten-luwu-timur", "2025-12-23 10:00", "corrected", [A, B, C], B),  # top-3 only; away from A, to B
    ("kabupaten-luwu-timur", "2025-12-23 11:00", "corrected", [A, B, C], D),  # neither; away from A, to D
    ("kabupaten-luwu-timur", "2025-12-29 10:00", "not_our_authority", [A, B], A),  # a decision, never a top-1
    ("kabupaten-luwu-timur", "2025-12-29 11:00", "archived", [A], A),  # decides nothing
    ("kabupaten-luwu-timur", "2025-12-01 10:00", "accepted", [A], A),  # before the period
    ("kota-makassar", "2025-12-17 10:00", "accepted", [X, Y], X),
    (
        "kota-samarinda",
        "2025-12-22 10:00",
        "corrected",
        ["Dinas Sosial Kota Samarinda"],
        "Dinas Kesehatan Kota Samarinda",
    ),
]
# (from, to, state, WIB time)
FORWARDS = [
    ("kabupaten-luwu-timur", "kota-makassar", "moved", "2025-12-22 10:00"),
    ("kota-samarinda", "kabupaten-gowa", "moved", "2025-12-23 10:00"),
    ("kota-makassar", "kota-samarinda", "moved", "2025-12-30 09:00"),
    ("kabupaten-luwu-timur", None, "lapor_pending", "2025-12-16 10:00"),
    ("kabupaten-luwu-timur", None, "lapor_pending", "2025-12-29 10:00"),
    ("kabupaten-luwu-timur", None, "lapor_done", "2025-12-23 10:00"),
    ("kabupaten-luwu-timur", None, "lapor_pending", "2025-12-02 10:00"),  # before the period
]
EXPECTED = {  # Sulawesi Selatan, 15-30 December 2025, as of the 30th
    "kabupaten-luwu-timur": {
        "received": 5, "open": 2, "overdue": 1, "overdue_now": 2, "decided": 3, "median_days": 2.0,
        "decisions": 4, "top1": 1, "top3": 2, "top1_rate": 0.25, "top3_rate": 0.5, "corrections": 2,
        "forwards_in": 0, "forwards_out": 1, "lapor": 3, "lapor_pending": 2,
    },
    "kota-makassar": {
        "received": 2, "open": 0, "overdue": 0, "overdue_now": 0, "decided": 2, "median_days": 3.0,
        "decisions": 1, "top1": 1, "top3": 1, "top1_rate": 1.0, "corrections": 0,
        "forwards_in": 1, "forwards_out": 1, "lapor": 0, "lapor_pending_share": None,
    },
    "kabupaten-gowa": {"received": 0, "decided": 0, "median_days": None, "top1_rate": None, "forwards_in": 1},
}  # fmt: skip


def _wib(text: str, shift: timedelta) -> datetime:
    """An aware UTC time for a WIB wall-clock text (how the desk stores decided_at and created_at)."""
    return (datetime.fromisoformat(text).replace(tzinfo=sla.LOCAL_TZ) + shift).astimezone(UTC)


def seed(url: str, shift_weeks: int = 0) -> None:
    """Write the scenario, every date moved by ``shift_weeks`` weeks, into the upgraded database at ``url``."""
    shift = timedelta(weeks=shift_weeks)
    now = _wib("2025-12-01 08:00", shift)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                regions.insert(),
                [
                    {"slug": s, "name": n, "province": p, "status": "active", "created_at": now, "updated_at": now}
                    for s, n, p in REGIONS
                ],
            )
            rows = []
            for cid, region, received, decided in COMPLAINTS:
                arrived = datetime.fromisoformat(received) + shift
                due, follow_up = sla.due_dates(arrived.date())
                rows.append(
                    {
                        "id": cid,
                        "region_slug": region,
                        "received_at": arrived,
                        "due": due,
                        "follow_up_due": follow_up,
                        "title": f"Pengaduan {cid}",
                        "text": "jalan rusak",
                        "source": {},
                        "suggestions": [],
                        "reasons": [],
                        "warnings": [],
                        "needs_review": False,
                        "model_version": "m1",
                        "agency": A,
                        "status": "open" if decided is None else "decided",
                        "action": None if decided is None else "accepted",
                        "decided_at": None if decided is None else _wib(decided, shift),
                        "decided_by": None if decided is None else "ani",
                        "imported_at": now,
                    }
                )
            conn.execute(complaints.insert(), rows)
            conn.execute(
                feedback.insert(),
                [
                    {
                        "idempotency_key": f"k{i}",
                        "complaint_id": f"F-{i}",
                        "text_sha256": "0" * 64,
                        "suggested": suggested,
                        "chosen_agency": chosen,
                        # as FeedbackStore.add writes them at decision time (0007_monev_rank)
                        "suggested_rank": suggested_rank(suggested, chosen),
                        "first_suggested": suggested[0],
                        "action": action,
                        "admin": "ani",
                        "model_version": "m1",
                        "created_at": _wib(at, shift),
                        "region_slug": region,
                    }
                    for i, (region, at, action, suggested, chosen) in enumerate(FEEDBACK)
                ],
            )
            conn.execute(
                forwards.insert(),
                [
                    {
                        "complaint_id": f"FW-{i}",
                        "from_region": src,
                        "to_region": dst,
                        "destination": dst or "Kementerian Sosial",
                        "state": state,
                        "by": "ani",
                        "at": _wib(at, shift),
                    }
                    for i, (src, dst, state, at) in enumerate(FORWARDS)
                ],
            )
    finally:
        engine.dispose()


def count(url: str, table: sa.Table) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


PASSWORD = "Kopi-tubruk-pagi-7"
# (username, role, regions, province)
ACCOUNTS = [
    ("sulsel", "supervisor", (), "Sulawesi Selatan"),
    ("kaltim", "supervisor", (), "Kalimantan Timur"),
    ("nasional", "supervisor", (), None),
    ("operator", "operator", (), None),
    ("lihat.gowa", "viewer", ("Kabupaten Gowa",), None),
    ("admin.makassar", "admin", ("Kota Makassar",), None),
]


def add_accounts(store) -> None:
    """The accounts of ``ACCOUNTS`` (password ``PASSWORD``) in an ``AccountStore``."""
    for username, role, region_names, province in ACCOUNTS:
        store.create(username, PASSWORD, role, region_names, province)


def shift_for(today: date) -> int:
    """The whole weeks that move ``ANCHOR`` to ``today`` or the six days before it (weekdays kept)."""
    return (today - ANCHOR).days // 7
