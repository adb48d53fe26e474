"""The managers' page: acceptance over time per model version, what gets corrected, review rate."""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from routing_model.io.feedback_schema import DECIDED_ACTIONS, accepted_as_suggested  # noqa: E402

from .feedback import _safe_source, read_feedback_frame  # noqa: E402

DECIDED = DECIDED_ACTIONS
FREQ = {"day": "D", "week": "W", "month": "M"}


def _bucket(created: pd.Series, period: str) -> pd.Series:
    return created.dt.tz_convert(None).dt.to_period(FREQ[period]).dt.start_time


def report_tables(frame: pd.DataFrame, period: str = "month") -> dict:
    """The figures behind the page, as DataFrames (also handy for tests)."""
    decided = frame[frame["action"].isin(DECIDED)].copy()
    decided["bucket"] = _bucket(decided["created_at"], period)
    decided["model_version"] = decided["model_version"].fillna("unknown").astype(str).replace("", "unknown")
    # one definition of "accepted" for the report and /v1/stats: dispatched to the top suggestion
    decided["accepted"] = [
        float(accepted_as_suggested(a, s, c))
        for a, s, c in zip(decided["action"], decided["suggested"], decided["chosen_agency"])
    ]
    acceptance = decided.groupby(["bucket", "model_version"])["accepted"].agg(["mean", "size"]).reset_index()

    decided["top"] = [s[0] if s else "(none)" for s in decided["suggested"]]
    corrected = decided[decided["action"].isin(["corrected", "not_our_authority"])]
    confusion = (
        corrected.assign(
            chosen=[c if isinstance(c, str) and c.strip() else "(not ours)" for c in corrected["chosen_agency"]]
        )
        .groupby(["top", "action", "chosen"])
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["count", "top"], ascending=[False, True])
    )
    by_top = decided.groupby("top").agg(suggested=("accepted", "size"), accepted=("accepted", "sum")).reset_index()
    by_top["corrected"] = by_top["suggested"] - by_top["accepted"]
    most_corrected = by_top[by_top["corrected"] > 0].sort_values(["corrected", "top"], ascending=[False, True])

    flagged = frame[frame["needs_review"].notna()].copy()
    flagged["bucket"] = _bucket(flagged["created_at"], period)
    flagged["review"] = flagged["needs_review"].astype(float)
    review = flagged.groupby("bucket")["review"].agg(["mean", "size"]).reset_index()
    return {
        "acceptance": acceptance,
        "confusion": confusion,
        "most_corrected": most_corrected,
        "review": review,
        "decided": len(decided),
        "accepted": int(decided["accepted"].sum()),
    }


def _chart_acceptance(acceptance: pd.DataFrame, path: Path, period: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    for version, group in acceptance.groupby("model_version"):
        ax.plot(group["bucket"], group["mean"] * 100, marker="o", label=str(version)[:40])
    ax.set_ylim(0, 100)
    ax.set_ylabel("accepted as suggested (%)")
    ax.set_title(f"Acceptance rate per {period}, by model version")
    ax.grid(alpha=0.3)
    if len(acceptance):
        ax.legend(fontsize=8, loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _chart_corrected(most_corrected: pd.DataFrame, path: Path, top_n: int = 12) -> None:
    data = most_corrected.head(top_n).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.5 * max(len(data), 2) + 1.2), dpi=100)
    ax.barh([str(t)[:55] for t in data["top"]], data["corrected"], color="#c0504d")
    ax.set_xlabel("suggestions corrected or rejected by admins")
    ax.set_title("Agencies most often corrected (top suggestion)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _chart_review(review: pd.DataFrame, path: Path, period: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.5), dpi=100)
    if len(review):
        ax.bar(
            review["bucket"],
            review["mean"] * 100,
            width=4 if period == "week" else 20 if period == "month" else 0.8,
            color="#4f81bd",
        )
    ax.set_ylim(0, 100)
    ax.set_ylabel("flagged for review (%)")
    ax.set_title(f"Review rate per {period}")
    ax.grid(axis="y", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _table(frame: pd.DataFrame, columns: dict, table_id: str, limit: int = 20) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = []
    for _, row in frame.head(limit).iterrows():
        cells = []
        for col in columns:
            value = row[col]
            if isinstance(value, float):
                value = f"{value:.0%}" if col in ("mean",) else f"{value:g}"
            cells.append(f"<td>{html.escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(columns)}">none</td></tr>')
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def write_report(source: str, out_dir, period: str = "month") -> dict:
    """Write ``out_dir/index.html`` with three PNG charts; returns a summary."""
    frame = read_feedback_frame(source)
    tables = report_tables(frame, period)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    charts = {"acceptance": "acceptance.png", "corrected": "corrected.png", "review": "review_rate.png"}
    try:
        _chart_acceptance(tables["acceptance"], tmp / charts["acceptance"], period)
        _chart_corrected(tables["most_corrected"], tmp / charts["corrected"])
        _chart_review(tables["review"], tmp / charts["review"], period)
        counts = frame["action"].value_counts().to_dict()
        decided = tables["decided"]
        overall = tables["accepted"] / decided if decided else float("nan")
        flagged = frame["needs_review"].dropna()
        review_rate = float(flagged.astype(float).mean()) if len(flagged) else float("nan")
        first, last = frame["created_at"].min(), frame["created_at"].max()
        page = f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>Disposisi — laporan umpan balik</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 1000px; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 1.6em; font-size: 1.2em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: left; font-size: 0.9em; }}
th {{ background: #eef; }} .kpi span {{ display: inline-block; margin-right: 2em; font-size: 1.1em; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
</style></head><body>
<h1>Disposisi: what admins did with the suggestions</h1>
<p>Source: {html.escape(_safe_source(source))}; {len(frame)} feedback rows from {first:%Y-%m-%d} to {last:%Y-%m-%d};
generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>
<p class="kpi"><span>accepted as suggested: <b>{_pct(overall)}</b></span>
<span>flagged for review: <b>{_pct(review_rate)}</b></span>
<span>actions: {html.escape(", ".join(f"{k} {v}" for k, v in sorted(counts.items())))}</span></p>
<h2>Acceptance rate over time, per model version</h2>
<img id="chart-acceptance" src="{charts["acceptance"]}" alt="acceptance rate per {period} and model version">
<details><summary>figures per {period}</summary>
{_table(tables["acceptance"].assign(bucket=tables["acceptance"]["bucket"].dt.strftime("%Y-%m-%d")), {"bucket": period, "model_version": "model version", "mean": "accepted", "size": "decisions"}, "table-acceptance", 200)}
</details>
<h2>Agencies most often corrected, and to what</h2>
<p>Top suggestion the admin did not accept, and what the admin chose instead ("not_our_authority": the agency said the complaint is not theirs).</p>
<img id="chart-corrected" src="{charts["corrected"]}" alt="agencies most often corrected">
{_table(tables["confusion"], {"top": "suggested first", "action": "admin action", "chosen": "chosen instead", "count": "times"}, "table-confusion", 25)}
<h2>Review rate</h2>
<img id="chart-review" src="{charts["review"]}" alt="share of suggestions flagged for review per {period}">
<details><summary>figures per {period}</summary>
{_table(tables["review"].assign(bucket=tables["review"]["bucket"].dt.strftime("%Y-%m-%d")), {"bucket": period, "mean": "flagged", "size": "suggestions"}, "table-review", 200)}
</details>
</body></html>
"""
        (tmp / "index.html").write_text(page, encoding="utf-8")
        if out_dir.exists():
            for name in ["index.html", *charts.values()]:
                os.replace(tmp / name, out_dir / name)
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"index": str(out_dir / "index.html"), "rows": len(frame), "charts": list(charts.values())}


def _pct(value: float) -> str:
    return "n/a" if value != value else f"{value:.0%}"
