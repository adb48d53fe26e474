"""`disposisi report`: an HTML page for managers from the admins' feedback."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="HTML report of acceptance, corrections and review rate from feedback")
    p.add_argument("--feedback", required=True, help="feedback DATABASE_URL or a CSV export of the feedback table")
    p.add_argument("--out", required=True, help="directory to write index.html and its charts into")
    p.add_argument("--period", default="month", choices=["day", "week", "month"], help="time bucket of the charts")
    p.set_defaults(func=run)


def run(args) -> int:
    from training.learning.report import write_report

    summary = write_report(args.feedback, args.out, args.period)
    print(f"report written to {summary['index']} ({summary['rows']} feedback rows, {len(summary['charts'])} charts)")
    return 0
