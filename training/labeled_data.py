"""Turn an export of dispatched complaints into clean (text, agency) training rows.

Nothing is dropped silently: every skipped row is counted under a reason, unknown agency
labels are listed, and duplicate texts with different labels are reported.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from routing_model.io.tabular import normalise_date, source_rows
from routing_model.registry.agencies import Registry
from routing_model.text.cleaning import clean
from routing_model.text.validation import MAX_TEXT_CHARS, MIN_ROUTABLE_WORDS, has_visible_text, routable_words


@dataclass
class LabeledData:
    frame: pd.DataFrame  # columns: text, label (canonical agency), date (may be empty), row (1-based source row)
    rows_read: int
    skipped: Counter = field(default_factory=Counter)
    unknown_labels: Counter = field(default_factory=Counter)
    duplicates: int = 0
    conflicting_duplicates: list[dict] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    @property
    def labels(self) -> list[str]:
        return self.frame["label"].tolist()

    def report(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_used": len(self.frame),
            "skipped": dict(self.skipped),
            "unknown_labels": dict(self.unknown_labels.most_common()),
            "duplicates_removed": self.duplicates,
            "conflicting_duplicates": len(self.conflicting_duplicates),
            "conflict_examples": self.conflicting_duplicates[:10],
        }

    def sha256(self) -> str:
        """Fingerprint of the rows actually trained on (text, label), order-independent."""
        digest = hashlib.sha256()
        for text, label in sorted(zip(self.texts, self.labels)):
            digest.update(text.encode("utf-8") + b"\x1f" + label.encode("utf-8") + b"\x1e")
        return digest.hexdigest()


def prepare_labeled(
    frame: pd.DataFrame,
    registry: Registry,
    text_column: str = "text",
    label_column: str = "agency",
    date_column: str | None = "date",
) -> LabeledData:
    """Resolve labels against the registry and drop what cannot be trained on, counting why.

    Rows the table reader already rejected (``frame.attrs["reader_rejects"]``) are counted here
    too, under their reason, so ``rows_read`` is every row of the file. Dates are normalised to
    YYYY-MM-DD by the reader's one date function (an unreadable date leaves the row undated).
    """
    row_numbers = source_rows(frame)
    rows = []
    skipped: Counter = Counter(frame.attrs.get("reader_rejects") or {})
    n_reader_rejects = sum(skipped.values())
    unknown: Counter = Counter()
    has_date = date_column is not None and date_column in frame.columns
    for row_number, text, raw_label, date in zip(
        row_numbers,
        frame[text_column].tolist(),
        frame[label_column].tolist(),
        frame[date_column].tolist() if has_date else [None] * len(frame),
    ):
        label_text = (
            "" if raw_label is None or (isinstance(raw_label, float) and pd.isna(raw_label)) else str(raw_label).strip()
        )
        if not label_text:
            skipped["no_label"] += 1
            continue
        text = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
        if len(text) > MAX_TEXT_CHARS:
            skipped["text_too_long"] += 1
            continue
        if not has_visible_text(text):
            skipped["no_visible_text" if text else "text_too_short"] += 1
            continue
        if routable_words(text) < MIN_ROUTABLE_WORDS:
            skipped["text_too_short"] += 1
            continue
        label = registry.resolve(label_text)
        if label is None:
            unknown[label_text] += 1
            skipped["unknown_label"] += 1
            continue
        if not registry.get(label).active:
            skipped["retired_agency"] += 1
            continue
        rows.append({"text": text, "label": label, "date": normalise_date(date), "row": row_number})

    data = pd.DataFrame(rows, columns=["text", "label", "date", "row"])
    # duplicates: same cleaned text. Same label -> keep one; different labels -> keep the latest decision.
    data["key"] = [clean(t).strip() for t in data["text"]]
    conflicts = []
    for _key, group in data.groupby("key", sort=False):
        if group["label"].nunique() > 1:
            latest = group.sort_values(["date", "row"]).iloc[-1]
            conflicts.append(
                {"rows": group["row"].tolist(), "labels": group["label"].tolist(), "kept": latest["label"]}
            )
    data = data.sort_values(["date", "row"]).drop_duplicates("key", keep="last").sort_values("row")
    n_dupes = len(rows) - len(data)
    return LabeledData(
        frame=data.drop(columns="key").reset_index(drop=True),
        rows_read=len(frame) + n_reader_rejects,
        skipped=skipped,
        unknown_labels=unknown,
        duplicates=n_dupes,
        conflicting_duplicates=conflicts,
    )
