"""Backlog import: classify large complaint exports in chunks, in parallel, resumably (issue 4)."""

from routing_model.io.tabular import Record, Source, open_source

from .runner import DEFAULT_CHUNK_SIZE, BacklogError, Options, run_backlog
from .worker import WorkerError

__all__ = [
    "BacklogError",
    "DEFAULT_CHUNK_SIZE",
    "Options",
    "Record",
    "Source",
    "WorkerError",
    "open_source",
    "run_backlog",
]
