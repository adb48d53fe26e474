"""Saving and loading a model directory: ``save``, ``load`` and ``load_served`` (as skops' ``dump`` and
``load``: functions beside the artifact, which imports the model, never the other way round). The directory
holds ``model.skops``, ``served.npz`` (``artifact.served``) and ``card.json``.

A pickled model is code. We store it with skops, whose loader only builds the types it is
told to trust, and we name those types explicitly (``TRUSTED_TYPES``: the model, the registry, and
what each learned field brings, declared in ``learned``): a file asking for anything else is
refused as foreign. Before that, ``load`` checks the card's sha256 of the model file (a
changed or truncated file is refused) and the library versions it was saved with.

The card itself is sealed too: ``card.sha256`` holds the sha256 of the card's canonical JSON,
and every read of a card (load, serve, promote, rollback, retrain) checks it, so figures the
promotion gate trusts (``champion_challenger.per_row``) cannot be edited by hand unnoticed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
import uuid
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from routing_model.artifact.served import SERVED_FILE, read_served, write_served
from routing_model.errors import DisposisiError
from routing_model.model.predict.learned import CARD, MODEL_STATE, PREDICTOR_STATE, skops_types
from routing_model.model.routing import RoutingModel

MODEL_CLASS = f"{RoutingModel.__module__}.{RoutingModel.__qualname__}"

FORMAT = "disposisi-model/1"
# Bump when the saved classes gain or lose learned attributes: an older file would load and
# then fail at prediction, so it is refused at load with a clear message instead.
SCHEMA = 4
MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
CARD_DIGEST_FILE = "card.sha256"

# Every non-builtin type a Disposisi model file may contain beyond what skops trusts by default: the model, its
# parameters (the registry), and what its learned fields bring (``learned``: skops trusts numpy, scipy and
# scikit-learn's own estimators only when listed).
TRUSTED_TYPES = frozenset(
    {
        MODEL_CLASS,
        "routing_model.registry.agencies.Registry",
        "routing_model.registry.agencies.Agency",
        "routing_model.registry.functions.FunctionCatalogue",
        "routing_model.registry.functions.Function",
        "routing_model.places.regions.Region",
        "builtins.frozenset",
        "builtins.tuple",
        "builtins.set",
    }
) | skops_types(MODEL_STATE, PREDICTOR_STATE)
VERSIONED = ("scikit-learn", "PySastrawi", "skops", "numpy", "scipy")

# A model.skops written before the package layout of issue 16 names its types by the flat module paths of then.
# The same types live at these paths now; such a file is read with its schema renamed (after the file's bytes
# were verified against the card, as always), so a model directory from before keeps loading.
MOVED_MODULES = {
    "routing_model.model": "routing_model.model.routing",
    "routing_model.registry": "routing_model.registry.agencies",
    "routing_model.functions": "routing_model.registry.functions",
    "routing_model.regions": "routing_model.places.regions",
    "routing_model.places": "routing_model.places.matching",
    "routing_model.classifier": "routing_model.model.fit.classifier",
    "routing_model.features": "routing_model.model.fit.features",
    "routing_model.preprocess": "routing_model.model.fit.preprocess",
    "routing_model.predictor": "routing_model.model.predict.predictor",
}


class ModelLoadError(DisposisiError, RuntimeError):
    """The model directory cannot be trusted or used; the message says why and what to do."""


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[dist] = "missing"
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def save(model: RoutingModel, out_dir: str | Path, card_extra: dict | None = None) -> dict:
    """Write ``model.skops``, ``served.npz`` (``artifact.served``) and ``card.json`` into ``out_dir``
    (created; files replaced atomically); returns the card, also kept as ``model.card_``."""
    import skops.io as sio  # training side: the service reads the served form without skops

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.card_ = None  # never nest an old card inside the new file
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".model-", suffix=".tmp")
    os.close(fd)
    try:
        # deflate: the file's schema.json (vocabularies, place names) shrinks about tenfold
        sio.dump(model, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a model is read by the service user too
        model_sha = sha256_file(Path(tmp))
        os.replace(tmp, out / MODEL_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    served_sha = sha256_file(write_served(model, out))
    created = datetime.now(UTC)
    card = {
        "format": FORMAT,
        "schema": SCHEMA,
        "version": f"{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "model_file": MODEL_FILE,
        "model_sha256": model_sha,
        "served_file": SERVED_FILE,
        "served_sha256": served_sha,
        "libraries": library_versions(),
        "labels": dict(model.label_counts_),
        "classes": [str(c) for c in model.classes_],
        "parameters": {
            "target_precision": model.target_precision,
            "holdout_share": model.holdout_share,
            "holdout_blocks": getattr(model, "holdout_blocks", 1),
            "min_labels": model.min_labels,
            "random_state": model.random_state,
            "classifier": model.classifier_.get_params(deep=False)
            | {"registry": model.registry.source if model.registry else None},
        },
        "review_threshold": model.review_threshold_,
        "review_thresholds": dict(model.review_thresholds_),
        "small_data": bool(model.small_data_),
        "region": _region(model),
        "base_model": getattr(model, "base_", None),
        "calibration": model.calibration_,
    }
    card["parameters"]["classifier"] = {k: _jsonable(v) for k, v in card["parameters"]["classifier"].items()}
    card.update(card_extra or {})
    card = json.loads(json.dumps(card, ensure_ascii=False, default=_jsonable))  # what a reader will see
    write_card(out, card)
    model.card_ = card
    return card


def _region(model: RoutingModel) -> dict | None:
    region = model.registry.region if model.registry is not None else None
    return {"province": region.province, "name": region.name} if region is not None else None


def card_digest(card: dict) -> str:
    """sha256 of the card's canonical JSON (sorted keys, no spaces): independent of formatting."""
    canonical = json.dumps(card, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def write_card(model_dir: str | Path, card: dict) -> None:
    """Write ``card.json`` and its seal ``card.sha256`` (each replaced atomically, card first).

    The one way to change a card: anything that edits ``card.json`` otherwise is refused at load.
    """
    out = Path(model_dir)
    tmp_card = out / f".{CARD_FILE}.tmp"
    tmp_card.write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp_digest = out / f".{CARD_DIGEST_FILE}.tmp"
    tmp_digest.write_text(card_digest(card) + "\n", encoding="ascii")
    os.replace(tmp_card, out / CARD_FILE)
    os.replace(tmp_digest, out / CARD_DIGEST_FILE)


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def read_card(model_dir: str | Path) -> dict:
    path = Path(model_dir) / CARD_FILE
    if not path.is_file():
        raise ModelLoadError(f"{model_dir} is not a Disposisi model directory: {CARD_FILE} is missing")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise ModelLoadError(
            f"{path} is not a {FORMAT} card (format={card.get('format') if isinstance(card, dict) else None!r})"
        )
    _check_card_seal(Path(model_dir), card)
    return card


def _check_card_seal(model_dir: Path, card: dict) -> None:
    seal = model_dir / CARD_DIGEST_FILE
    try:
        recorded = seal.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ModelLoadError(
            f"{seal} is missing: the card cannot be verified; retrain the model (or restore the file)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{seal} cannot be read: {exc}") from exc
    if card_digest(card) != recorded:
        raise ModelLoadError(
            f"{model_dir / CARD_FILE} was changed after the model was saved (its sha256 does not match {CARD_DIGEST_FILE}); "
            "restore the card, or retrain the model"
        )


def _verified_file(model_dir: Path, card: dict, name: str, digest_key: str) -> Path:
    """``model_dir/name``, once its sha256 matches the sealed card and the card's schema is ours."""
    if card.get("schema") != SCHEMA:
        raise ModelLoadError(
            f"{model_dir} was saved by another version of Disposisi (model schema {card.get('schema')}, "
            f"this version reads {SCHEMA}); retrain it with `disposisi train`"
        )
    path = model_dir / name
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing; retrain the model with `disposisi train` (or restore the file)")
    actual = sha256_file(path)
    if actual != card.get(digest_key):
        raise ModelLoadError(
            f"{path} does not match its card (sha256 {actual[:12]}… != {str(card.get(digest_key))[:12]}…): "
            "the file was changed or truncated; retrain or restore it"
        )
    return path


def _check_libraries(card: dict, dists: tuple[str, ...]) -> None:
    saved = card.get("libraries", {})
    running = library_versions()
    for dist in dists:
        if _minor(str(saved.get(dist, ""))) != _minor(running[dist]):
            raise ModelLoadError(
                f"model was saved with {dist} {saved.get(dist)} but {running[dist]} is installed; "
                "retrain it with `disposisi train` under this version"
            )


def verify_model_dir(model_dir: str | Path) -> tuple[dict, list[str]]:
    """Every check ``load`` makes before it builds any object: card, checksums (of the
    served form too), schema, library versions, types in the file. Returns the card and the file's non-default types."""
    import skops.io as sio

    model_dir = Path(model_dir)
    card = read_card(model_dir)
    model_path = _verified_file(model_dir, card, MODEL_FILE, "model_sha256")
    _verified_file(model_dir, card, SERVED_FILE, "served_sha256")  # what the service will load
    _check_libraries(card, ("scikit-learn", "PySastrawi"))
    try:
        untrusted = set(sio.get_untrusted_types(data=skops_bytes(model_path)))
    except Exception as exc:  # skops raises many types for a foreign/corrupt file
        raise ModelLoadError(f"{model_path} is not a readable skops file: {exc}") from exc
    foreign = sorted(untrusted - TRUSTED_TYPES)
    if foreign:
        raise ModelLoadError(f"{model_path} contains types Disposisi does not trust: {', '.join(foreign[:5])}")
    return card, sorted(untrusted)


def skops_bytes(model_path: Path) -> bytes:
    """The skops file's bytes, its ``schema.json`` renamed by ``MOVED_MODULES`` when it was written before."""
    data = model_path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
        if not _rename_modules(schema):
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as renamed:
            for info in archive.infolist():
                body = json.dumps(schema).encode("utf-8") if info.filename == "schema.json" else archive.read(info)
                renamed.writestr(info, body)
    return out.getvalue()


def _rename_modules(node) -> int:
    """Rename every ``__module__`` of a skops schema found in ``MOVED_MODULES``, in place; how many."""
    renamed, stack = 0, [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            module = item.get("__module__")
            if isinstance(module, str) and module in MOVED_MODULES:
                item["__module__"] = MOVED_MODULES[module]
                renamed += 1
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return renamed


def load(model_dir: str | Path) -> RoutingModel:
    """Verify and load a model directory (``model.skops``, for training further); its card is ``model.card_``."""
    import skops.io as sio

    card, trusted = verify_model_dir(model_dir)
    model_path = Path(model_dir) / MODEL_FILE
    try:
        model = sio.loads(skops_bytes(model_path), trusted=trusted)
    except Exception as exc:
        raise ModelLoadError(f"{model_path} could not be loaded: {exc}") from exc
    if type(model) is not RoutingModel:
        raise ModelLoadError(f"{model_path} holds a {type(model).__name__}, not a RoutingModel")
    model.card_ = card
    return model


def load_served(model_dir: str | Path) -> RoutingModel:
    """Verify and load the served form of a model directory (``artifact.served``: arrays and JSON, no pickle, no
    scikit-learn): it suggests exactly as ``load``'s model, and cannot be trained further. The fields the card
    keeps (``learned.CARD``) come from the card."""
    model_dir = Path(model_dir)
    card = read_card(model_dir)
    path = _verified_file(model_dir, card, SERVED_FILE, "served_sha256")
    _check_libraries(card, ("PySastrawi",))
    try:
        model = read_served(path)
    except Exception as exc:  # numpy and json raise many types for a foreign file
        raise ModelLoadError(f"{path} could not be loaded: {exc}") from exc
    for f in MODEL_STATE:
        if f.kind == CARD:
            value = card if f.name == "card_" else card.get(f.served_key)
            if value is not None:  # base_ only for an adapted model
                setattr(model, f.name, value)
    return model
