"""Saving and loading a model directory: ``save``, ``load`` and ``load_served`` (as skops' ``dump`` and
``load``: functions beside the artifact, which imports the model, never the other way round). The directory
holds ``model.skops``, ``served.npz`` (``artifact.served``) and ``card.json``.

A pickled model is code. We store it with skops, whose loader only builds the types it is
told to trust, and we name those types explicitly (``TRUSTED_TYPES``: the model, the registry, and
what each learned field brings, declared in ``learned``): a file asking for anything else is
refused as foreign. Before that, ``load`` checks the card's sha256 of the model file (a
changed or truncated file is refused) and the library versions it was saved with.

The card itself is sealed too (``cards``). ``load_served`` also reads a region's head on its shared base
(``heads``, ``bases``): the service loads either layout through it.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

from routing_model.artifact.bases import Bases
from routing_model.artifact.cards import (
    CARD_DIGEST_FILE,
    CARD_FILE,
    FORMAT,
    SCHEMA,
    VERSIONED,
    ModelLoadError,
    card_digest,
    check_libraries,
    library_versions,
    model_card,
    read_card,
    restore_card_fields,
    sealed_card,
    sha256_file,
    verified_file,
    write_card,
)
from routing_model.artifact.heads import is_head_dir, load_head
from routing_model.artifact.served import SERVED_FILE, read_served, write_served
from routing_model.model.predict.learned import MODEL_STATE, PREDICTOR_STATE, skops_types
from routing_model.model.routing import RoutingModel

MODEL_CLASS = f"{RoutingModel.__module__}.{RoutingModel.__qualname__}"

MODEL_FILE = "model.skops"
# Names of ``cards`` that callers have always imported from here.
__all__ = [
    "CARD_DIGEST_FILE",
    "CARD_FILE",
    "FORMAT",
    "SCHEMA",
    "VERSIONED",
    "ModelLoadError",
    "card_digest",
    "library_versions",
    "load",
    "load_served",
    "read_card",
    "save",
    "sha256_file",
    "verify_model",
    "verify_model_dir",
    "write_card",
]

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
    card = model_card(model) | {
        "model_file": MODEL_FILE,
        "model_sha256": model_sha,
        "served_file": SERVED_FILE,
        "served_sha256": served_sha,
    }
    card = sealed_card(out, card | (card_extra or {}))
    model.card_ = card
    return card


def verify_model_dir(model_dir: str | Path) -> tuple[dict, list[str]]:
    """Every check ``load`` makes before it builds any object: card, checksums (of the
    served form too), schema, library versions, types in the file. Returns the card and the file's non-default types."""
    import skops.io as sio

    model_dir = Path(model_dir)
    card = read_card(model_dir)
    model_path = verified_file(model_dir, card, MODEL_FILE, "model_sha256")
    verified_file(model_dir, card, SERVED_FILE, "served_sha256")  # what the service will load
    check_libraries(card, ("scikit-learn", "PySastrawi"))
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


def verify_model(model_dir: str | Path, bases: str | Path | None = None) -> dict:
    """Refuse a model directory that would not load, of either layout, before it is promoted or rolled back to; its
    card. A whole model is loaded as training would (``load``); a head as the service would (``load_served``: every
    head file's digest, and its base, found in ``bases`` or ``DATA_DIR/bases`` above it)."""
    if is_head_dir(model_dir):
        return load_served(model_dir, bases).card_
    return load(model_dir).card_


def load_served(model_dir: str | Path, bases: str | Path | None = None, opened: Bases | None = None) -> RoutingModel:
    """Verify and load the served form of a model directory (``artifact.served``: arrays and JSON, no pickle, no
    scikit-learn): it suggests exactly as ``load``'s model, and cannot be trained further. The fields the card
    keeps (``learned.CARD``) come from the card.

    A head directory (``heads``) is loaded on its base: ``bases`` is the base directory or ``DATA_DIR/bases``
    (default: ``bases/`` of the nearest ancestor that has the head's base), ``opened`` the caller's ``Bases``."""
    model_dir = Path(model_dir)
    if is_head_dir(model_dir):
        return load_head(model_dir, bases, opened)
    card = read_card(model_dir)
    path = verified_file(model_dir, card, SERVED_FILE, "served_sha256")
    check_libraries(card, ("PySastrawi",))
    try:
        model = read_served(path)
    except Exception as exc:  # numpy and json raise many types for a foreign file
        raise ModelLoadError(f"{path} could not be loaded: {exc}") from exc
    return restore_card_fields(model, card)
