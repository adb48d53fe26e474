"""`disposisi classify`: add suggested agencies to every row of a table, at backlog scale.

Streams CSV/TSV/JSON Lines/.xlsx (incl. the SP4N-LAPOR! export) in chunks through worker processes
(or a Dask cluster), writes the output as it goes, rejected rows to `<output>.rejects.csv`, and can
resume a killed run with `--resume`. See docs/backlog.md.
"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("classify", help="suggest agencies for every complaint in a table (CSV, TSV, JSONL, .xlsx)")
    p.add_argument("--model", required=True, help="model directory written by `disposisi train`")
    p.add_argument(
        "--input",
        required=True,
        help="CSV/TSV (any delimiter; UTF-8, UTF-8-BOM or Windows-1252), "
        "JSON Lines, or .xlsx incl. the SP4N-LAPOR! 'Laporan Ringkas' export",
    )
    p.add_argument(
        "--output",
        required=True,
        help="file to write: .csv, .jsonl or .xlsx (the input's columns with "
        "their own names and order, then the suggestions); rejected rows go to <output>.rejects.csv. "
        "Written as <output>.partial and renamed when complete",
    )
    p.add_argument("--k", type=int, default=3, help="suggestions per complaint (default 3)")
    p.add_argument("--text-column", default=None, help="column with the complaint text (default: detected)")
    p.add_argument(
        "--id-column", default=None, help="column with the complaint id, used in the reject report (default: detected)"
    )
    p.add_argument(
        "--format",
        dest="fmt",
        choices=["csv", "jsonl", "xlsx"],
        default=None,
        help="output format (default: from the output file name: .csv/.tsv/.txt, .jsonl/.ndjson, .xlsx)",
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress and no summary")
    p.add_argument("--resume", action="store_true", help="continue a killed run of the same command")
    p.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="local worker processes (default) or a Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="tcp://host:port of an existing Dask scheduler "
        "(default with --engine dask: a LocalCluster with --jobs workers)",
    )
    p.add_argument("--chunk-size", type=int, default=None, help="rows per chunk (default 2000)")
    p.add_argument("--progress-every", type=float, default=10.0, help=argparse_suppress())
    p.set_defaults(func=run)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def run(args) -> int:
    from service.batch import DEFAULT_CHUNK_SIZE, BacklogError, Options, WorkerError, run_backlog
    from service.cli.common import UserError

    fmt = args.fmt
    if args.scheduler and args.engine != "dask":
        raise UserError("--scheduler needs --engine dask")
    opts = Options(
        model=args.model,
        input=args.input,
        output=args.output,
        k=args.k,
        text_column=args.text_column,
        id_column=args.id_column,
        fmt=fmt,
        jobs=args.jobs,
        quiet=args.quiet,
        resume=args.resume,
        engine=args.engine,
        scheduler=args.scheduler,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
        progress_every=args.progress_every,
    )
    try:
        summary = run_backlog(opts)
    except (BacklogError, WorkerError) as exc:
        raise UserError(str(exc)) from exc
    return 0 if summary["ok"] else 3
