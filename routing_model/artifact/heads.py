"""A head directory: a region's own part of a model, on a base named by its digest (``bases``).

It holds the ``HEAD`` fields of ``learned`` (registry tables, place and mention index, the local topic model,
temperature, function mix, thresholds, label counts) as uncompressed ``.npy`` files (memory-mapped on load) and
``head.json`` (the JSON part), and the sealed ``card.json`` of every model directory, which adds ``layout: head``,
``base_digest``, ``base_schema`` and each head file's sha256. ``load_head`` gives a model that suggests exactly as the
same model saved whole (``persistence.load_served``), and refuses a head whose base is missing, changed or of
another schema.

Deployment layout: ``DATA_DIR/bases/<digest>/`` and ``DATA_DIR/regions/<slug>/models/<version>/`` (a head).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from routing_model.artifact.bases import BASE_SCHEMA, Bases, base_digest_of, npy_bytes, read_base_record
from routing_model.artifact.cards import (
    CARD_DIGEST_FILE,
    CARD_FILE,
    ModelLoadError,
    model_card,
    read_card,
    restore_card_fields,
    sealed_card,
    sha256_file,
)
from routing_model.artifact.served import SERVED_FORMAT, json_bytes, restore_head, served_parts
from routing_model.io.files import write_atomically
from routing_model.model.predict.learned import HEAD
from routing_model.model.predict.vectorize import CodedCoef, ColumnCoef
from routing_model.model.routing import RoutingModel

HEAD_FILE = "head.json"
COEF, INDEX, USED, SHAPE = (
    ".coef",
    ".packed-columns",
    ".packed-values",
    ".packed-shape",
)  # a packed coefficient matrix's arrays
PATTERNS, PATTERN_OF, SCALES = ".coded-patterns", ".coded-pattern-of", ".coded-scales"  # a coded one's values
BYTES, UTF8 = ".bytes", ".utf8"  # a float table of whole numbers 0..255; names as UTF-8 joined by NUL
LAYOUT = "head"
BASES = "bases"  # DATA_DIR/bases/<digest>/


def is_head_dir(model_dir: str | Path) -> bool:
    """Whether ``model_dir`` holds a head (rather than a whole model): it has ``head.json``, or its card says so
    (a head that lost its ``head.json`` is then refused as a damaged head, not as a damaged whole model)."""
    model_dir = Path(model_dir)
    if (model_dir / HEAD_FILE).is_file():
        return True
    try:
        card = json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(card, dict) and card.get("layout") == LAYOUT


def head_dir_files(card: dict) -> tuple[str, ...]:
    """What a head directory holds, by its sealed card (its arrays, ``head.json``, the card and its digest): all a
    promotion copies, never anything left beside it."""
    return (*sorted(card.get("head_files") or {}), CARD_FILE, CARD_DIGEST_FILE)


def write_head(model: RoutingModel, out_dir: str | Path, base_digest: str, card_extra: dict | None = None) -> dict:
    """Write ``model``'s ``HEAD`` fields into ``out_dir`` (created; files replaced) on the base ``base_digest``;
    returns the sealed card. Refuses a model whose base fields are not that base's (it was adapted from another)."""
    own = base_digest_of(model)
    if own != base_digest:
        raise ModelLoadError(
            f"this model's shared part is base {own[:12]}…, not {base_digest[:12]}…: adapt it from that base"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arrays, meta = served_parts(model, HEAD)
    arrays = compact(arrays)
    digests = {}
    for name, array in sorted(arrays.items()):
        digests[f"{name}.npy"] = write_atomically(out / f"{name}.npy", npy_bytes(np.ascontiguousarray(array)))
    digests[HEAD_FILE] = write_atomically(out / HEAD_FILE, json_bytes(meta))
    card = model_card(model) | {
        "layout": LAYOUT,
        "base_digest": base_digest,
        "base_schema": BASE_SCHEMA,
        "head_files": digests,
    }
    card = sealed_card(out, card | (card_extra or {}))
    model.card_ = card
    return card


def compact(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The head's arrays in their smallest exact form: each linear model's coefficients as their non-zero columns
    (``ColumnCoef``), as distinct 8-bit patterns when they are on 255 levels (``CodedCoef``: an adapted region's
    topic model); a float table of whole numbers 0..255 (``holders``) as bytes; names as UTF-8. ``expand`` gives
    back the same numbers and names."""
    out = {}
    for name, array in arrays.items():
        if name.endswith(COEF):
            out |= _packed(name, array)
        elif array.dtype == np.float64 and array.size and _whole_bytes(array):
            out[name + BYTES] = array.astype(np.uint8)
        elif array.dtype.kind == "U" and array.ndim == 1 and array.size and not any("\0" in t for t in array):
            out[name + UTF8] = np.frombuffer("\0".join(array.tolist()).encode("utf-8"), dtype=np.uint8)
        else:
            out[name] = array
    return out


def _whole_bytes(array: np.ndarray) -> bool:
    return bool(np.all((array >= 0) & (array <= 255) & (array == np.rint(array)) & ~np.signbit(array)))


def _packed(name: str, coef: np.ndarray) -> dict[str, np.ndarray]:
    coded = CodedCoef.coded(coef)
    packed = coded if coded is not None else ColumnCoef.of(coef)
    index = packed.index.astype(np.uint16) if packed.shape[1] <= np.iinfo(np.uint16).max + 1 else packed.index
    out = {f"{name}{INDEX}": index, f"{name}{SHAPE}": np.array(packed.shape)}
    if coded is None:
        return out | {f"{name}{USED}": packed.used}
    return out | {
        f"{name}{PATTERNS}": coded.used,
        f"{name}{PATTERN_OF}": coded.pattern_of,
        f"{name}{SCALES}": coded.scales,
    }


def expand(arrays: dict) -> dict:
    """``compact``'s arrays as the served codecs read them (a ``ColumnCoef`` or ``CodedCoef`` for each packed
    coefficient matrix, float64 tables, string arrays)."""
    parts = (INDEX, USED, SHAPE, PATTERNS, PATTERN_OF, SCALES)
    out = {k: v for k, v in arrays.items() if not k.endswith((*parts, BYTES, UTF8))}
    for name in [k.removesuffix(INDEX) for k in arrays if k.endswith(INDEX)]:
        index, shape = np.asarray(arrays[name + INDEX]), tuple(arrays[name + SHAPE])
        if name + PATTERNS in arrays:
            out[name] = CodedCoef(
                index, arrays[name + PATTERNS], arrays[name + PATTERN_OF], arrays[name + SCALES], shape
            )
        else:
            out[name] = ColumnCoef(index, arrays[name + USED], shape)
    for name in [k.removesuffix(BYTES) for k in arrays if k.endswith(BYTES)]:
        out[name] = np.asarray(arrays[name + BYTES], dtype=np.float64)
    for name in [k.removesuffix(UTF8) for k in arrays if k.endswith(UTF8)]:
        out[name] = np.array(bytes(arrays[name + UTF8]).decode("utf-8").split("\0"))
    return out


def find_base(card: dict, head_dir: Path, bases: str | Path | None) -> Path:
    """The base directory of a head: ``bases`` itself when it is a base directory, else ``bases/<digest>``; without
    ``bases``, ``<ancestor>/bases/<digest>`` of the nearest ancestor of the head that has one (the deployment's
    ``DATA_DIR``)."""
    digest = str(card.get("base_digest"))
    if bases is not None:
        given = Path(bases)
        if (given / "base.json").is_file():
            return given
        candidate = given / digest
    else:
        candidate = next(
            (p / BASES / digest for p in head_dir.resolve().parents if (p / BASES / digest).is_dir()),
            head_dir / BASES / digest,
        )
    if not candidate.is_dir():
        raise ModelLoadError(f"head {head_dir} needs base {digest[:12]}…, which is missing ({candidate} not found)")
    return candidate


def load_head(head_dir: str | Path, bases: str | Path | None = None, opened: Bases | None = None) -> RoutingModel:
    """Verify a head and its base and load them as one served model (``suggest``/``predict_proba`` as
    ``load_served``'s). ``bases``: the base directory or the directory of bases (``DATA_DIR/bases``); ``opened``:
    the caller's ``Bases``, so a base is verified and mapped once per process."""
    head_dir = Path(head_dir)
    card = read_card(head_dir)
    if card.get("layout") != LAYOUT:
        raise ModelLoadError(f"{head_dir} is not a head (its card has no layout '{LAYOUT}')")
    base_dir = find_base(card, head_dir, bases)
    record = read_base_record(base_dir)
    if card.get("base_schema") != BASE_SCHEMA or record.get("schema") != card.get("base_schema"):
        raise ModelLoadError(
            f"head {head_dir} was made for a base of schema {card.get('base_schema')}; base {base_dir} has schema "
            f"{record.get('schema')} and this version reads {BASE_SCHEMA}: adapt the region again"
        )
    base = (opened if opened is not None else Bases()).get(base_dir, str(card["base_digest"]))
    arrays = {}
    for name, expected in sorted(card.get("head_files", {}).items()):
        path = head_dir / name
        if not path.is_file() or sha256_file(path) != expected:
            raise ModelLoadError(f"head {head_dir}: {name} is missing or changed (sha256 mismatch); adapt it again")
        if name.endswith(".npy"):
            arrays[name.removesuffix(".npy")] = np.load(path, mmap_mode="r", allow_pickle=False)
    try:
        meta = json.loads((head_dir / HEAD_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != SERVED_FORMAT:
            raise ValueError(f"{HEAD_FILE} is not a {SERVED_FORMAT} record")
        model = restore_head(expand(arrays), meta, base.fields)
    except Exception as exc:  # numpy and json raise many types for a foreign file
        raise ModelLoadError(f"head {head_dir} could not be loaded: {exc}") from exc
    return restore_card_fields(model, card)
