"""The work done on one chunk, identical for every engine: validate, classify, format.

A chunk goes in as source records and comes out as ready-to-append bytes (output rows and reject
rows) plus counters, so the process that writes the files does no per-row work and the output is
byte-identical whatever engine, number of workers or restart produced it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import dataclass

from routing_model.errors import DisposisiError
from service.batch.columns import neutralise_formula, suggestion_columns, suggestion_row

REJECT_COLUMNS = ["row", "id", "reason", "detail", "raw"]

_MODELS: dict = {}  # model dir -> RoutingModel, one load per process
_INIT_ERROR: str | None = None


class WorkerError(DisposisiError, ValueError):
    """A worker cannot do its job (e.g. the model does not load); the message says why."""


@dataclass(frozen=True)
class ChunkSpec:
    """Everything a worker needs besides the records; small and picklable."""

    model_dir: str
    k: int
    columns: tuple[str, ...]
    text_index: int
    id_index: int | None
    fmt: str  # csv | jsonl
    delimiter: str = ","


def get_model(model_dir: str):
    model = _MODELS.get(model_dir)
    if model is None:
        from routing_model.artifact import persistence

        model = _MODELS[model_dir] = persistence.load_served(model_dir)  # the served form: no scikit-learn per worker
    return model


def init_worker(model_dir: str, watch_parent: bool = False) -> None:
    """Worker initializer: load the model once per worker process.

    With ``watch_parent`` (local process pool) the worker exits when its parent disappears, so a
    ``kill -9`` of the job does not leave idle workers behind.
    """
    global _INIT_ERROR
    if watch_parent:
        _watch_parent(os.getppid())
    try:
        get_model(model_dir)
    except Exception as exc:  # reported with the first chunk (an initializer error only breaks the pool)
        _INIT_ERROR = f"cannot load the model in a worker: {exc}"


def _watch_parent(parent: int) -> None:
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def header_bytes(spec: ChunkSpec) -> bytes:
    if spec.fmt == "jsonl":
        return b""
    return _csv_bytes([list(spec.columns) + suggestion_columns(spec.k)])


def rejects_header_bytes() -> bytes:
    return _csv_bytes([REJECT_COLUMNS])


def process_chunk(spec: ChunkSpec, records: list) -> tuple[bytes, bytes, dict]:
    """(output bytes, reject bytes, counters) for one chunk of ``routing_model.io.tabular.Record`` tuples."""
    from routing_model.text.validation import check_text

    if _INIT_ERROR is not None:
        raise WorkerError(_INIT_ERROR)
    model = get_model(spec.model_dir)
    version = model.version
    rejects: list[list] = []
    valid: list[tuple] = []  # (record, text)
    for rec in records:
        row, values = rec[0], rec[1]
        if values is None:
            rejects.append([row, "", rec[2], rec[3], rec[4]])
            continue
        text = values[spec.text_index]
        problem = check_text(text)
        if problem is not None:
            rejects.append(
                [row, values[spec.id_index] if spec.id_index is not None else "", problem[0], problem[1], text[:2000]]
            )
            continue
        valid.append((rec, text))

    # identical texts (retweets, copy-pasted complaints) are classified once per chunk
    unique = list(dict.fromkeys(t for _, t in valid))
    suggestions = dict(zip(unique, model.suggest(unique, k=spec.k, n_reasons=0))) if unique else {}

    top = Counter()
    review = 0
    cols = suggestion_columns(spec.k)
    out_rows = []
    for rec, text in valid:
        s = suggestions[text]
        extra = suggestion_row(s, spec.k, version)
        review += s.needs_review
        top[s.agencies[0][0]] += 1
        out_rows.append([neutralise_formula(v) for v in rec[1]] + [neutralise_formula(extra[c]) for c in cols])

    if spec.fmt == "jsonl":
        names = list(spec.columns) + cols
        out = "".join(json.dumps(dict(zip(names, r)), ensure_ascii=False) + "\n" for r in out_rows).encode("utf-8")
    else:
        out = _csv_bytes(out_rows)
    rej = _csv_bytes([[neutralise_formula(str(v)) for v in r] for r in rejects])
    stats = {
        "read": len(records),
        "classified": len(out_rows),
        "rejected": len(rejects),
        "needs_review": review,
        "agencies": dict(top),
        "reject_reasons": dict(Counter(r[2] for r in rejects)),
    }
    return out, rej, stats
