"""Reading admins' feedback (the service's ``feedback`` table, or a CSV export of it) as labels.

Semantics (docs/learning.md):

* ``accepted`` / ``corrected``: (text, chosen_agency) is a label, dated by ``created_at``.
* ``not_our_authority``: a signal *against* the agency named in ``chosen_agency`` (or, when
  that is empty, the top suggestion): the (text, agency) pair is never used as a positive.
* ``archived``: ignored (the rows are dropped before anything else).
* The latest decision per ``complaint_id`` wins; complaints with differing decisions are
  reported as conflicts.
* Confidential rows have no text and cannot be training data: counted, never used.
* An agency the registry does not know is an error (nothing is trained) unless the caller
  asks to skip such rows, in which case they are counted.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from routing_model.io import feedback_schema as schema
from routing_model.io.tabular import TableError, read_table, source_rows
from routing_model.registry.agencies import Registry
from routing_model.text.cleaning import clean, mask_identifier, mask_personal_data

ACTIONS = frozenset(schema.ACTIONS)
LABEL_ACTIONS = schema.LABEL_ACTIONS
REQUIRED_COLUMNS = schema.REQUIRED_COLUMNS
OPTIONAL_COLUMNS = schema.OPTIONAL_COLUMNS


class FeedbackError(TableError):
    """The feedback cannot be used as it is; nothing was trained or changed."""


def is_database_url(source: str) -> bool:
    return "://" in str(source) and not Path(str(source)).exists()


def read_feedback_frame(source: str, region: str | None = None) -> pd.DataFrame:
    """All feedback rows as a DataFrame with at least the required columns (oldest first).

    ``region``: only the decisions of that region (``region_slug``; ``""`` is a single-region
    deployment's own), so one region's decisions never train another region's model."""
    source = str(source)
    if is_database_url(source):
        frame = _read_database(source, region)
        where = "feedback table"
    else:
        frame = read_table(source)
        rows = source_rows(frame)
        frame = frame.reset_index(drop=True)  # positions from here on; row numbers for messages below
        frame.attrs.update(first_data_row=rows[0] if rows else 2, row_index=False)
        if region is not None and "region_slug" in frame.columns:  # an export of a single-region deployment has none
            frame = frame[frame["region_slug"].fillna("").astype(str) == region].reset_index(drop=True)
        where = source
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise FeedbackError(
            f"{where}: missing column(s) {', '.join(missing)}; feedback needs {', '.join(REQUIRED_COLUMNS)} "
            f"(optional: {', '.join(OPTIONAL_COLUMNS)}); available: {', '.join(map(str, frame.columns))}"
        )
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame = frame.copy()
    frame["suggested"] = [parse_suggested(v) for v in frame["suggested"]]
    frame["confidential"] = [_truthy(v) for v in frame["confidential"]]
    frame["needs_review"] = [None if _missing(v) else _truthy(v) for v in frame["needs_review"]]
    created = pd.to_datetime(frame["created_at"], errors="coerce", utc=True, format="mixed")
    bad = frame.index[created.isna()].tolist()
    if bad:
        raise FeedbackError(
            f"{where}: created_at is missing or not a date in {len(bad)} row(s), e.g. row {_rowno(frame, bad[0])}"
        )
    frame["created_at"] = created
    frame["action"] = [str(a).strip().lower() if not _missing(a) else "" for a in frame["action"]]
    unknown_actions = sorted(set(frame["action"]) - ACTIONS)
    if unknown_actions:
        raise FeedbackError(f"{where}: unknown action(s) {unknown_actions}; expected one of {sorted(ACTIONS)}")
    frame["_row"] = [_rowno(frame, i) for i in range(len(frame))]
    return _masked(frame)


def _masked(frame: pd.DataFrame) -> pd.DataFrame:
    """The same masking as the service's store, for feedback that comes from elsewhere (a CSV
    export): free text masked, none kept for confidential rows, ids NIK/phone-masked."""
    for col in ("text", "note"):
        frame[col] = [
            None if conf or _missing(v) else mask_personal_data(str(v))
            for conf, v in zip(frame["confidential"], frame[col])
        ]
    for col in ("complaint_id", "admin"):
        frame[col] = [v if _missing(v) else mask_identifier(str(v)) for v in frame[col]]
    return frame


def _rowno(frame: pd.DataFrame, i: int) -> int:
    return (
        int(frame.attrs.get("first_data_row", 2)) + int(i)
        if "id" not in frame or _missing(frame["id"].iloc[i])
        else int(frame["id"].iloc[i])
    )


def _read_database(url: str, region: str | None = None) -> pd.DataFrame:
    import sqlalchemy as sa

    table = schema.feedback
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(schema.TABLE):
                raise FeedbackError("the feedback database has no 'feedback' table")
            query = sa.select(table).order_by(table.c.id)
            if region is not None:
                query = query.where(table.c.region_slug == region)
            rows = conn.execute(query).mappings().all()
            columns = [c.name for c in table.columns]
    except FeedbackError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise FeedbackError(
            f"cannot read the feedback database: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from exc
    except Exception as exc:  # bad URL, missing driver
        raise FeedbackError(f"cannot open the feedback database: {exc}") from exc
    finally:
        try:
            engine.dispose()
        except Exception:
            pass
    frame = pd.DataFrame([dict(r) for r in rows], columns=columns)
    frame.attrs["first_data_row"] = 1
    return frame


def _missing(value) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or (isinstance(value, str) and not value.strip())
    )


def _truthy(value) -> bool:
    if _missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "t", "yes", "y"}
    return bool(value)


def parse_suggested(value) -> list[str]:
    """The ``suggested`` column: a JSON list (from the DB or a CSV cell), or ';'-separated names."""
    if _missing(value):
        return []
    if isinstance(value, (list, tuple)):
        items = value
    else:
        text = str(value).strip()
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = text.split(";")
        if isinstance(items, str):
            items = [items]
    out = []
    for item in items:
        if isinstance(item, dict):  # tolerate [{"agency": ..., "confidence": ...}]
            item = item.get("agency")
        if not _missing(item):
            out.append(str(item).strip())
    return out


@dataclass
class FeedbackLabels:
    """Labels and negative signals derived from feedback, with counts of everything not used."""

    labels: pd.DataFrame  # text, agency (canonical), date (YYYY-MM-DD), complaint_id, action
    negatives: set = field(default_factory=set)  # (cleaned text, canonical agency)
    counts: Counter = field(default_factory=Counter)
    conflicts: list[dict] = field(default_factory=list)
    unknown_agencies: Counter = field(default_factory=Counter)

    def report(self) -> dict:
        return {
            "counts": dict(self.counts),
            "labels": len(self.labels),
            "negatives": len(self.negatives),
            "conflicts": len(self.conflicts),
            "conflict_examples": self.conflicts[:10],
            "unknown_agencies": dict(self.unknown_agencies.most_common()),
        }


def feedback_labels(
    frame: pd.DataFrame, registry: Registry, skip_unknown: bool = False, source: str = "feedback"
) -> FeedbackLabels:
    """Turn feedback rows into labels (latest decision per complaint wins) and negative pairs."""
    counts: Counter = Counter(rows_read=len(frame))
    counts["archived"] = int((frame["action"] == "archived").sum())
    live = frame[frame["action"] != "archived"]

    # the agency each decision is about
    targets, unknown, unknown_rows = [], Counter(), []
    for _, row in live.iterrows():
        name = row["chosen_agency"]
        if _missing(name) and row["action"] == "not_our_authority" and row["suggested"]:
            name = row["suggested"][0]
        if _missing(name):
            targets.append(None)
            continue
        name = str(name).strip()
        resolved = registry.resolve(name)
        if resolved is None:
            unknown[name] += 1
            unknown_rows.append(row["_row"])
        targets.append(resolved)
    if unknown and not skip_unknown:
        names = ", ".join(f"'{n}'" for n in list(unknown)[:5])
        raise FeedbackError(
            f"{source}: {sum(unknown.values())} feedback row(s) name agencies the registry does not know: {names} "
            f"(rows {unknown_rows[:5]}); fix the registry or the feedback, or pass --skip-unknown to count and skip them. "
            "Nothing was trained."
        )
    live = live.assign(_agency=targets)
    counts["unknown_agency"] = sum(unknown.values())
    counts["no_agency"] = len(targets) - sum(t is not None for t in targets) - sum(unknown.values())
    live = live[live["_agency"].notna()]

    # latest decision per complaint wins; differing decisions are conflicts
    live = live.sort_values(["created_at", "_row"], kind="stable")
    latest_rows, conflicts = [], []
    for complaint, group in live.groupby("complaint_id", sort=False):
        last = group.iloc[-1]
        decisions = {(a in LABEL_ACTIONS, g) for a, g in zip(group["action"], group["_agency"])}
        if len(decisions) > 1:
            conflicts.append(
                {
                    "complaint_id": str(complaint),
                    "decisions": [f"{a}:{g}" for a, g in zip(group["action"], group["_agency"])],
                    "kept": f"{last['action']}:{last['_agency']}",
                }
            )
        counts["superseded"] += len(group) - 1
        latest_rows.append(last)
    latest = pd.DataFrame(latest_rows, columns=live.columns) if latest_rows else live.iloc[0:0]

    rows, negatives = [], set()
    for _, row in latest.iterrows():
        text = row["text"]
        if row["confidential"] or _missing(text):
            counts["confidential_no_text"] += 1
            continue
        agency = row["_agency"]
        if not registry.get(agency).active:
            counts["retired_agency"] += 1
            continue
        if row["action"] == "not_our_authority":
            negatives.add((clean(str(text)).strip(), agency))
            counts["not_our_authority"] += 1
            continue
        counts[row["action"]] += 1
        rows.append(
            {
                "text": str(text),
                "agency": agency,
                "date": row["created_at"].strftime("%Y-%m-%d"),
                "complaint_id": str(row["complaint_id"]),
                "action": row["action"],
            }
        )
    labels = pd.DataFrame(rows, columns=["text", "agency", "date", "complaint_id", "action"])
    counts = Counter({k: int(v) for k, v in counts.items() if v})
    return FeedbackLabels(labels, negatives, counts, conflicts, unknown)


def load_feedback(
    source: str, registry: Registry, skip_unknown: bool = False, region: str | None = None
) -> FeedbackLabels:
    """Labels from the feedback at ``source``; ``region``: only that region's decisions."""
    frame = read_feedback_frame(source, region)
    return feedback_labels(frame, registry, skip_unknown, source=_safe_source(source))


def _safe_source(source: str) -> str:
    """A name for messages that never prints a database password."""
    source = str(source)
    if is_database_url(source):
        try:
            from sqlalchemy.engine import make_url

            return make_url(source).render_as_string(hide_password=True)
        except Exception:
            return "feedback database"
    return source
