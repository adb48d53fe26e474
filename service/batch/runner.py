"""Backlog classification: stream the input in chunks, classify them in parallel, append in order.

    source records --chunk--> engine (local processes | dask) --in order--> append + fsync + journal
                                                            --at the end--> rename (or .xlsx) to --output

Only the parent process touches the output files; workers return finished bytes. Until the job
is complete the rows go to ``<output>.partial`` (and ``<output>.rejects.csv.partial``): a file
named as the admin asked exists only once it is whole. See ``service.batch.journal`` for how a killed
run resumes, and docs/backlog.md for the whole design.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.io.progress import Progress
from routing_model.io.tabular import open_source

from .journal import fsync_dir, job_signature, journal_path, partial_path, read_journal, rejects_path, write_journal
from .output_files import finish_output, output_format
from .worker import ChunkSpec, header_bytes, init_worker, process_chunk, rejects_header_bytes

log = logging.getLogger("disposisi.backlog")

DEFAULT_CHUNK_SIZE = 2000


class BacklogError(DisposisiError, ValueError):
    """A problem the user can fix (options, a checkpoint that does not match, ...)."""


@dataclass
class Options:
    model: str
    input: str
    output: str
    k: int = 3
    text_column: str | None = None
    id_column: str | None = None
    fmt: str | None = None  # csv | jsonl | xlsx; None: from the output file name
    jobs: int | None = None
    quiet: bool = False
    resume: bool = False
    engine: str = "local"
    scheduler: str | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    progress_every: float = 10.0


def _chunks(records, size: int):
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


# -- engines ------------------------------------------------------------------------------------
def _run_inline(spec, chunks):
    init_worker(spec.model_dir)
    for chunk in chunks:
        yield process_chunk(spec, chunk)


def _run_processes(spec, chunks, jobs: int):
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    window = deque()
    with ProcessPoolExecutor(max_workers=jobs, initializer=init_worker, initargs=(spec.model_dir, True)) as pool:
        try:
            for chunk in chunks:
                window.append(pool.submit(process_chunk, spec, chunk))
                if len(window) >= 2 * jobs:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        except BrokenProcessPool as exc:
            raise BacklogError(f"a worker process died ({exc}); fix the cause and re-run with --resume") from exc
        finally:
            for f in window:
                f.cancel()


def dask_client(scheduler: str | None, jobs: int = 1, verbose: bool = False):
    """``(client, cluster)``: a client of the Dask scheduler at ``scheduler``, else of a new LocalCluster of
    ``jobs`` worker processes (``cluster`` is then that cluster, to close after the client; else None).
    Shared by ``classify --engine dask`` and the background jobs (service/job_runner.py)."""
    from distributed import Client, LocalCluster

    if not verbose:
        for name in ("distributed", "bokeh", "tornado"):
            logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _run_dask(spec, chunks, jobs: int, scheduler: str | None, verbose: bool):
    client, cluster = dask_client(scheduler, jobs, verbose)
    try:
        client.run(init_worker, spec.model_dir)  # load the model once on every worker, fail early
        nworkers = max(1, len(client.scheduler_info().get("workers", {})))
        window = deque()
        for chunk in chunks:
            window.append(client.submit(process_chunk, spec, chunk, pure=False))
            if len(window) >= 2 * nworkers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- the job ------------------------------------------------------------------------------------
def _model_version(model_dir: str) -> str:
    from routing_model.artifact.persistence import read_card

    return str(read_card(model_dir).get("version", "unsaved"))


def run_backlog(opts: Options) -> dict:
    """Classify ``opts.input`` into ``opts.output``; returns the summary counters."""
    if opts.k < 1:
        raise BacklogError("--k must be at least 1")
    if opts.chunk_size < 1:
        raise BacklogError("--chunk-size must be at least 1")
    fmt = output_format(opts.output, opts.fmt)
    if Path(opts.output).resolve() == Path(opts.input).resolve():
        raise BacklogError("--output must not be the input file: the input would be overwritten")
    if opts.engine not in ("local", "dask"):
        raise BacklogError("--engine must be local or dask")
    jobs = opts.jobs or os.cpu_count() or 1
    if jobs < 1:
        raise BacklogError("--jobs must be at least 1")
    started = time.monotonic()
    src = open_source(opts.input, opts.text_column, opts.id_column)
    version = _model_version(opts.model)
    from routing_model import RoutingModel  # noqa: F401  (fail here, not in a worker, if it cannot import)

    # workers write CSV rows for .xlsx too: the workbook is built from them once the job is complete
    spec = ChunkSpec(
        str(Path(opts.model).resolve()),
        opts.k,
        tuple(src.columns),
        src.text_index,
        src.id_index,
        "jsonl" if fmt == "jsonl" else "csv",
    )
    final_out = Path(opts.output)
    final_rej, jpath = rejects_path(final_out), journal_path(final_out)
    out, rej = partial_path(final_out), partial_path(final_rej)
    st = os.stat(opts.input)
    signature = job_signature(
        input=str(Path(opts.input).resolve()),
        size=st.st_size,
        mtime=st.st_mtime_ns,
        model=version,
        k=opts.k,
        text=src.text_column,
        id=src.id_column,
        fmt=fmt,
        chunk=opts.chunk_size,
        columns=src.columns,
    )

    state = read_journal(jpath) if opts.resume else None
    if state is not None and state.get("signature") != signature:
        raise BacklogError(
            f"cannot resume: {jpath} was written for a different input, model or options; "
            "re-run with the original command, or without --resume to start again"
        )
    if state is not None and (
        not out.exists()
        or not rej.exists()
        or out.stat().st_size < state["out_bytes"]
        or rej.stat().st_size < state["rej_bytes"]
    ):
        raise BacklogError(
            f"cannot resume: {out} or {rej} is missing or shorter than its checkpoint; re-run without --resume"
        )
    if opts.resume and state is None and not opts.quiet:
        print(f"classify: no checkpoint at {jpath}; starting from the beginning", file=sys.stderr)

    out.parent.mkdir(parents=True, exist_ok=True)
    if state is None:
        with open(out, "wb") as fh:
            fh.write(header_bytes(spec))
            fh.flush()
            os.fsync(fh.fileno())
        with open(rej, "wb") as fh:
            fh.write(rejects_header_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        state = {
            "signature": signature,
            "chunks": 0,
            "out_bytes": out.stat().st_size,
            "rej_bytes": rej.stat().st_size,
            "read": 0,
            "classified": 0,
            "rejected": 0,
            "needs_review": 0,
            "agencies": {},
            "reject_reasons": {},
        }
        write_journal(jpath, state)
    elif not opts.quiet:
        print(f"classify: resuming after {state['read']:,} rows ({state['chunks']} chunks)", file=sys.stderr)

    agencies = Counter(state["agencies"])
    reasons = Counter(state["reject_reasons"])
    skip = state["chunks"]
    chunks = islice(_chunks(src.records(), opts.chunk_size), skip, None)
    progress = Progress(
        None if opts.quiet else src.estimate_rows(),
        "classify",
        "rows",
        initial=state["read"],
        enabled=not opts.quiet,
        every=opts.progress_every,
    )
    if opts.engine == "dask":
        results = _run_dask(spec, chunks, jobs, opts.scheduler, log.isEnabledFor(logging.DEBUG))
    elif jobs == 1:
        results = _run_inline(spec, chunks)
    else:
        results = _run_processes(spec, chunks, jobs)

    session_rows = 0
    try:
        with open(out, "r+b") as fo, open(rej, "r+b") as fr:
            fo.truncate(state["out_bytes"])
            fr.truncate(state["rej_bytes"])
            fo.seek(state["out_bytes"])
            fr.seek(state["rej_bytes"])
            for out_bytes, rej_bytes, stats in results:
                fo.write(out_bytes)
                fr.write(rej_bytes)
                fo.flush()
                fr.flush()
                os.fsync(fo.fileno())
                os.fsync(fr.fileno())
                agencies.update(stats["agencies"])
                reasons.update(stats["reject_reasons"])
                for key in ("read", "classified", "rejected", "needs_review"):
                    state[key] += stats[key]
                state.update(
                    chunks=state["chunks"] + 1,
                    out_bytes=fo.tell(),
                    rej_bytes=fr.tell(),
                    agencies=dict(agencies),
                    reject_reasons=dict(reasons),
                )
                write_journal(jpath, state)
                session_rows += stats["read"]
                progress.update(stats["read"])
    finally:
        progress.close()
        close = getattr(results, "close", None)
        if close is not None:
            close()

    # complete: only now do the files get the names the admin asked for
    finish_output(out, final_out, fmt)
    os.replace(rej, final_rej)
    fsync_dir(final_out.parent)
    elapsed = time.monotonic() - started
    ok = state["read"] == state["classified"] + state["rejected"]
    jpath.unlink(missing_ok=True)
    out, rej = final_out, final_rej
    summary = {
        "read": state["read"],
        "classified": state["classified"],
        "rejected": state["rejected"],
        "needs_review": state["needs_review"],
        "agencies": agencies,
        "reject_reasons": reasons,
        "seconds": elapsed,
        "session_rows": session_rows,
        "ok": ok,
        "output": str(out),
        "rejects": str(rej),
        "text_column": src.text_column,
        "id_column": src.id_column,
        "source_kind": src.kind,
    }
    if not opts.quiet:
        print(format_summary(summary))
    elif not ok:
        print(format_check(summary), file=sys.stderr)
    return summary


def format_check(s: dict) -> str:
    verdict = "OK" if s["ok"] else "MISMATCH"
    return f"check: rows in {s['read']:,} == rows out {s['classified']:,} + rows rejected {s['rejected']:,}  {verdict}"


def format_summary(s: dict) -> str:
    rate = s["session_rows"] / s["seconds"] if s["seconds"] > 0 else 0.0
    lines = [
        f"classify: done in {s['seconds']:.1f} s ({rate:,.0f} rows/s); text column '{s['text_column']}'"
        + (f", id column '{s['id_column']}'" if s["id_column"] else ""),
        f"  rows read      {s['read']:>12,}",
        f"  classified     {s['classified']:>12,}  -> {s['output']}",
        f"  rejected       {s['rejected']:>12,}  -> {s['rejects']}",
    ]
    if s["reject_reasons"]:
        lines.append("    " + ", ".join(f"{r} {n:,}" for r, n in s["reject_reasons"].most_common()))
    share = s["needs_review"] / s["classified"] * 100 if s["classified"] else 0.0
    lines.append(f"  needs review   {s['needs_review']:>12,}  ({share:.1f} % of classified)")
    if s["agencies"]:
        lines.append("  top agencies (first suggestion):")
        for agency, n in s["agencies"].most_common(5):
            lines.append(f"    {n:>10,}  {n / s['classified'] * 100:5.1f} %  {agency}")
    lines.append("  " + format_check(s))
    return "\n".join(lines)
