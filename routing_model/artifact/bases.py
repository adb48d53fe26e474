"""A base directory: what every region adapted from one model shares, kept once per deployment.

The ``BASE`` fields of ``learned`` (the vocabularies with idf and the word lists of the text views, the function
model) are written as uncompressed ``.npy`` files plus ``base.json`` (their JSON part and each file's sha256). The
base's digest is one sha256 over ``base.json``'s canonical JSON, so over every file's digest: a head names its base
by it, and a changed array changes it. Workers open the arrays with ``np.load(mmap_mode="r")``: read-only maps of the
same page-cache pages, so a second worker adds almost nothing (PSS, not RSS, grows per worker).

A base verified once in a process is kept in a ``Bases`` holder the caller owns (the app, a worker, a test), never in
a module global. ``training/`` beside the arrays is the full model the base came from (written by ``split``), which
``adapt`` reads to make new heads; serving never reads it.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from routing_model.artifact.cards import SCHEMA, ModelLoadError, read_json_file, sha256_file
from routing_model.artifact.served import base_fields, json_bytes, served_parts
from routing_model.io.files import write_atomically
from routing_model.model.predict.learned import BASE
from routing_model.model.routing import RoutingModel

BASE_FILE = "base.json"
BASE_FORMAT = "disposisi-base/1"
BASE_SCHEMA = 1  # bump when the base's layout changes: heads of another base schema are refused
TRAINING_DIR = "training"


def npy_bytes(array: np.ndarray) -> bytes:
    """An array as the bytes of its ``.npy`` file (no pickled objects)."""
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def canonical_digest(record: dict) -> str:
    """sha256 of a record's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def base_record(model: RoutingModel) -> tuple[dict, dict[str, bytes]]:
    """``base.json``'s record and the ``.npy`` files' bytes of a fitted model's ``BASE`` fields."""
    arrays, meta = served_parts(model, BASE)
    files = {f"{name}.npy": npy_bytes(array) for name, array in arrays.items()}
    record = {
        "format": BASE_FORMAT,
        "schema": BASE_SCHEMA,
        "model_schema": SCHEMA,
        "meta": json.loads(json_bytes(meta)),
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in sorted(files.items())},
    }
    return record, files


def base_digest_of(model: RoutingModel) -> str:
    """The digest ``write_base`` would give ``model``'s base: a head adapted from a base has its base's digest."""
    return canonical_digest(base_record(model)[0])


def write_base(model: RoutingModel, out_dir: str | Path) -> str:
    """Write ``model``'s ``BASE`` fields as a base directory (created; its files replaced); returns its digest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record, files = base_record(model)
    for name, body in files.items():
        write_atomically(out / name, body)
    write_atomically(out / BASE_FILE, json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8"))
    return canonical_digest(record)


@dataclass
class OpenBase:
    """A verified base: its digest, record, and the predictor's ``BASE`` fields over memory-mapped arrays."""

    path: Path
    digest: str
    record: dict
    fields: dict
    training: RoutingModel | None = None  # the full model of ``training/``, loaded by the first adapt (``split``)


def read_base_record(base_dir: Path) -> dict:
    """``base.json`` of a base directory, or a one-line ``ModelLoadError`` saying it is not one."""
    record = read_json_file(base_dir / BASE_FILE, f"{base_dir} is not a base directory: {BASE_FILE} is missing")
    if not isinstance(record, dict) or record.get("format") != BASE_FORMAT:
        raise ModelLoadError(f"{base_dir} is not a base directory: {BASE_FILE} is not a {BASE_FORMAT} record")
    return record


def open_base(base_dir: str | Path, digest: str | None = None) -> OpenBase:
    """Verify a base directory (every file against ``base.json``, ``base.json`` against ``digest`` when given, its
    schema) and map its arrays read-only."""
    base_dir = Path(base_dir)
    record = read_base_record(base_dir)
    if record.get("schema") != BASE_SCHEMA or record.get("model_schema") != SCHEMA:
        raise ModelLoadError(
            f"base {base_dir} has schema {record.get('schema')}/{record.get('model_schema')}, this version reads "
            f"{BASE_SCHEMA}/{SCHEMA}; write the base again with `disposisi model split`"
        )
    actual = canonical_digest(record)
    if digest is not None and actual != digest:
        raise ModelLoadError(f"base {base_dir} is not base {digest[:12]}… (its digest is {actual[:12]}…)")
    arrays = {}
    for name, expected in record["files"].items():
        path = base_dir / name
        if not path.is_file() or sha256_file(path) != expected:
            raise ModelLoadError(f"base {base_dir}: {name} is missing or changed (sha256 mismatch); restore the base")
        arrays[name.removesuffix(".npy")] = np.load(path, mmap_mode="r", allow_pickle=False)
    try:
        fields = base_fields(arrays, record["meta"])
    except Exception as exc:  # a verified base of our schema always reads; anything else is a foreign file
        raise ModelLoadError(f"base {base_dir} could not be read: {exc}") from exc
    return OpenBase(base_dir, actual, record, fields)


@dataclass
class Bases:
    """The bases verified in this process, by (directory, digest): each is checked and mapped once, and every
    head on it shares its arrays and vocabularies. Owned by the caller (an app, a worker, a bench), not global."""

    opened: dict[tuple[str, str], OpenBase] = field(default_factory=dict)

    def get(self, base_dir: str | Path, digest: str) -> OpenBase:
        key = (str(Path(base_dir).resolve()), digest)
        if key not in self.opened:
            self.opened[key] = open_base(base_dir, digest)
        return self.opened[key]
