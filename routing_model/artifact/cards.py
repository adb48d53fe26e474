"""A model directory's card: ``card.json``, what a model is (version, libraries, labels, thresholds, calibration,
the files and their sha256), sealed by ``card.sha256``, and the checks every reader of a model makes with it.

Shared by the whole-model layout (``persistence``) and the base and head layout (``bases``, ``heads``).

The card is sealed: ``card.sha256`` holds the sha256 of the card's canonical JSON,
and every read of a card (load, serve, promote, rollback, retrain) checks it, so figures the
promotion gate trusts (``champion_challenger.per_row``) cannot be edited by hand unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.model.predict.learned import CARD, MODEL_STATE
from routing_model.model.routing import RoutingModel

FORMAT = "disposisi-model/1"
# Bump when the saved classes gain or lose learned attributes: an older file would load and
# then fail at prediction, so it is refused at load with a clear message instead.
SCHEMA = 4
CARD_FILE = "card.json"
CARD_DIGEST_FILE = "card.sha256"
VERSIONED = ("scikit-learn", "PySastrawi", "skops", "numpy", "scipy")


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


def sealed_card(model_dir: Path, card: dict) -> dict:
    """``card`` as a reader will see it (plain JSON), written and sealed into ``model_dir``."""
    card = json.loads(json.dumps(card, ensure_ascii=False, default=_jsonable))
    write_card(model_dir, card)
    return card


def model_card(model: RoutingModel) -> dict:
    """What a model's card says of it: version, libraries, labels, parameters, thresholds, calibration (the files
    and their digests are added by the writer of each layout)."""
    created = datetime.now(UTC)
    card = {
        "format": FORMAT,
        "schema": SCHEMA,
        "version": f"{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
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


def read_json_file(path: Path, missing: str):
    """The JSON value in ``path``; a one-line ``ModelLoadError``: ``missing`` when there is no such file, or that
    it is not valid JSON."""
    if not path.is_file():
        raise ModelLoadError(missing)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from exc


def read_card(model_dir: str | Path) -> dict:
    path = Path(model_dir) / CARD_FILE
    card = read_json_file(path, f"{model_dir} is not a Disposisi model directory: {CARD_FILE} is missing")
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


def verified_file(model_dir: Path, card: dict, name: str, digest_key: str) -> Path:
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


def check_libraries(card: dict, dists: tuple[str, ...]) -> None:
    saved = card.get("libraries", {})
    running = library_versions()
    for dist in dists:
        if _minor(str(saved.get(dist, ""))) != _minor(running[dist]):
            raise ModelLoadError(
                f"model was saved with {dist} {saved.get(dist)} but {running[dist]} is installed; "
                "retrain it with `disposisi train` under this version"
            )


def restore_card_fields(model: RoutingModel, card: dict) -> RoutingModel:
    """Set the fields the card keeps (``learned.CARD``) on a model read from a served form."""
    for f in MODEL_STATE:
        if f.kind == CARD:
            value = card if f.name == "card_" else card.get(f.served_key)
            if value is not None:  # base_ only for an adapted model
                setattr(model, f.name, value)
    return model
