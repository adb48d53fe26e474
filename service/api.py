"""HTTP endpoints, as three blueprints: ``v1`` (the API), ``health`` and ``mlflow`` (serving conventions)."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from routing_model import ComplaintTextError, RoutingModel, validate_text
from routing_model.model.live_guard import WINDOW_DAYS

from .errors import ApiError
from .fields import FieldError
from .json_body import read_json
from .logsafe import escaped
from .public_card import public_card
from .scope import current_caller, current_region, may_see, scoped
from .state import current_state
from .store import ACTIONS, FeedbackInput, sanitised

log = logging.getLogger(__name__)

v1 = Blueprint("v1", __name__, url_prefix="/v1")
health = Blueprint("health", __name__)
mlflow = Blueprint("mlflow", __name__)

MAX_ID_CHARS = 200
MAX_NOTE_CHARS = 4000
MAX_SUGGESTED = 100


# -- validation helpers ---------------------------------------------------------------------
def _invalid(message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(422, code, message)


def _object(body, what: str = "the body") -> dict:
    if not isinstance(body, dict):
        raise _invalid(f"{what} must be a JSON object")
    return body


def _check_text(text, field: str = "text") -> str:
    """validate_text plus the service's own (possibly lower) length limit; ApiError-free codes."""
    if text is None:
        raise ComplaintTextError("missing_text", f"'{field}' is required")
    if not isinstance(text, str):
        raise ComplaintTextError("not_text", f"'{field}' must be a string, got {_json_type(text)}")
    limit = current_app.config["MAX_TEXT_CHARS"]
    if len(text) > limit:
        raise ComplaintTextError("text_too_long", f"'{field}' has {len(text):,} characters; the limit is {limit:,}")
    return validate_text(text)


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null"
    )


def _optional_id(value, field: str = "id") -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _invalid(f"'{field}' must be a string or an integer")
    value = str(value)
    if len(value) > MAX_ID_CHARS:
        raise _invalid(f"'{field}' is longer than {MAX_ID_CHARS} characters")
    return value


def _k(body: dict, model: RoutingModel) -> int:
    k = body.get("k", 3)
    if isinstance(k, bool) or not isinstance(k, int):
        raise _invalid("'k' must be an integer")
    if not 1 <= k <= len(model.classes_):
        raise _invalid(f"'k' must be between 1 and {len(model.classes_)}")
    return k


def _string(body: dict, field: str, required: bool = True, max_chars: int = MAX_ID_CHARS) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise _invalid(f"'{field}' is required", "missing_field")
        return None
    if not isinstance(value, str):
        raise _invalid(f"'{field}' must be a string, got {_json_type(value)}")
    if required and not value.strip():
        raise _invalid(f"'{field}' must not be empty")
    if len(value) > max_chars:
        raise _invalid(f"'{field}' is longer than {max_chars} characters")
    return value


def _text_error(exc: ComplaintTextError) -> ApiError:
    return ApiError(422, exc.code, str(exc))


def _suggest_many(model: RoutingModel, texts: list[str], k: int) -> list[dict]:
    out = []
    for s in model.suggest(texts, k=k, withdrawn=current_state().withdrawn(current_region().slug)):
        d = s.to_dict()
        d["model_version"] = model.version
        out.append(d)
    return out


# -- v1 -----------------------------------------------------------------------------------------
@v1.post("/suggest")
@scoped("public", region=True)
def suggest():
    body = _object(read_json())
    model = current_region().model  # one reference for the whole request (hot reload swaps the holder's)
    item_id = _optional_id(body.get("id"))
    k = _k(body, model)
    try:
        text = _check_text(body.get("text"))
    except ComplaintTextError as exc:
        raise _text_error(exc) from None
    (answer,) = _suggest_many(model, [text], k)
    return jsonify({"id": item_id, **answer})


@v1.post("/suggest/batch")
@scoped("public", region=True)
def suggest_batch():
    cfg = current_app.config
    body = _object(read_json())
    model = current_region().model
    items = body.get("items")
    if items is None:
        raise _invalid("'items' is required", "missing_field")
    if not isinstance(items, list):
        raise _invalid("'items' must be an array")
    if len(items) > cfg["MAX_BATCH"]:
        raise _invalid(f"'items' has {len(items)} entries; the limit is {cfg['MAX_BATCH']}", "too_many_items")
    k = _k(body, model)
    results: list[dict | None] = [None] * len(items)
    good_idx, good_texts = [], []
    for i, item in enumerate(items):
        item_id = None
        try:
            if not isinstance(item, dict):
                raise ComplaintTextError("invalid_item", "each item must be an object with 'text'")
            try:
                item_id = _optional_id(item.get("id"))
            except ApiError as exc:
                raise ComplaintTextError("invalid_id", exc.description) from None
            text = _check_text(item.get("text"))
        except ComplaintTextError as exc:
            results[i] = {"id": item_id, "error": {"code": exc.code, "message": str(exc)}}
            continue
        results[i] = {"id": item_id}
        good_idx.append(i)
        good_texts.append(text)
    for i, answer in zip(good_idx, _suggest_many(model, good_texts, k) if good_texts else []):
        results[i].update(answer)
    errors = sum("error" in r for r in results)
    return jsonify({"items": results, "model_version": model.version, "n_items": len(results), "n_errors": errors})


@v1.post("/feedback")
@scoped("decide", region=True)
def post_feedback():
    who = current_caller()
    body = _object(read_json())  # read_json refuses lone surrogates anywhere in the body
    st = current_state()
    model = current_region().model

    complaint_id = _optional_id(body.get("complaint_id"), "complaint_id")
    if complaint_id is None or not complaint_id.strip():
        raise _invalid("'complaint_id' is required", "missing_field")
    try:
        text = _check_text(body.get("text"))
    except ComplaintTextError as exc:
        raise _text_error(exc) from None
    suggested = body.get("suggested")
    if suggested is None:
        raise _invalid("'suggested' is required", "missing_field")
    if not isinstance(suggested, list) or len(suggested) > MAX_SUGGESTED:
        raise _invalid(f"'suggested' must be an array of at most {MAX_SUGGESTED} agency names")
    names = []
    for s in suggested:  # names, or the {"agency", "confidence"} objects /v1/suggest returned
        name = s.get("agency") if isinstance(s, dict) else s
        if not isinstance(name, str) or not name.strip() or len(name) > 300:
            raise _invalid("'suggested' entries must be agency names (strings) or {\"agency\": name} objects")
        names.append(name)
    chosen_raw = _string(body, "chosen_agency", max_chars=300)
    chosen = model.registry.resolve(chosen_raw)
    if chosen is None:
        raise _invalid(
            f"'chosen_agency' {chosen_raw!r} is not an agency in the registry (see GET /v1/agencies)", "unknown_agency"
        )
    action = _string(body, "action")
    if action not in ACTIONS:
        raise _invalid(f"'action' must be one of {', '.join(ACTIONS)}")
    admin = who.account.username if who.account else _string(body, "admin")  # an account's token: its username
    model_version = _string(body, "model_version")
    note = _string(body, "note", required=False, max_chars=MAX_NOTE_CHARS)
    confidential = body.get("confidential", False)
    if not isinstance(confidential, bool):
        raise _invalid("'confidential' must be true or false")
    needs_review = body.get("needs_review")
    if needs_review is not None and not isinstance(needs_review, bool):
        raise _invalid("'needs_review' must be true, false or absent")
    key = body.get("idempotency_key", request.headers.get("Idempotency-Key"))
    if key is None:
        key = f"auto-{uuid.uuid4()}"
    elif not isinstance(key, str) or not key.strip() or len(key) > MAX_ID_CHARS:
        raise _invalid(f"'idempotency_key' must be a non-empty string of at most {MAX_ID_CHARS} characters")

    try:  # sanitised before the store sees it, so the replay check compares stored forms
        item = sanitised(
            FeedbackInput(
                idempotency_key=key,
                complaint_id=complaint_id,
                text=text,
                suggested=names,
                chosen_agency=chosen,
                action=action,
                admin=admin,
                model_version=model_version,
                confidential=confidential,
                needs_review=needs_review,
                note=note,
                region_slug=current_region().slug,
            )
        )
    except FieldError as exc:
        status = 400 if exc.code == "invalid_characters" else 422
        raise ApiError(status, exc.code, str(exc)) from None
    record, created = st.store.add(item)
    if not created and (
        record["complaint_id"] != item.complaint_id
        or record["chosen_agency"] != item.chosen_agency
        or record["action"] != action
    ):
        raise ApiError(409, "idempotency_key_reused", "this idempotency key was already used for a different feedback")
    log.info(
        "feedback %s %s complaint=%s action=%s",
        record["id"],
        "stored" if created else "replayed",
        escaped(item.complaint_id),
        escaped(action),
    )
    resp = jsonify({"feedback": record, "replayed": not created})
    resp.status_code = 201 if created else 200
    return resp


@v1.get("/agencies")
@scoped("public", region=True)
def agencies():
    registry = current_region().model.registry
    return jsonify({"agencies": [a.as_dict() for a in registry.agencies], "n": len(registry.agencies)})


@v1.get("/model")
@scoped("public", region=True)
def model_card():
    return jsonify(public_card(current_region().model.card_))


@v1.get("/stats")
@scoped("public", region=True)
def stats():
    st = current_state()
    region = current_region().slug
    figures = st.store.stats(region=None if st.models is not None else region)
    return jsonify({**figures, "live_guard": {"window_days": WINDOW_DAYS, "withdrawn": st.withdrawn(region)}})


@v1.get("/regions")
@scoped("signed_in")
def list_regions():
    """The regions the caller may see, with the version of the model each serves."""
    st = current_state()
    who = current_caller()
    items = [
        {
            "name": r.name,
            "slug": r.slug,
            "province": r.province,
            "status": r.status,
            "model_version": st.model_version(r.slug),
        }
        for r in st.served_regions()
        if may_see(who, r)
    ]
    return jsonify({"regions": items, "n": len(items), "default": st.default_region()})


# -- health -------------------------------------------------------------------------------------
@health.get("/healthz")
@scoped("public")
def healthz():
    return jsonify({"status": "ok"})


@health.get("/readyz")
@scoped("public")
def readyz():
    st = current_state()
    model_ok = st.models.model is not None if st.models is not None else st.region_models is not None
    db_ok = st.store.ping()
    body = {
        "status": "ready" if model_ok and db_ok else "not_ready",
        "model": model_ok,
        "database": db_ok,
        "model_version": st.models.model.version if st.models is not None and model_ok else None,
        "worker_pid": os.getpid(),
    }  # each worker starts on the preloaded model and reloads on its own
    if st.models is None:
        body["regions_loaded"] = sorted(st.region_models.loaded())
    elif st.models.last_error:
        body["model_reload_error"] = st.models.last_error
    if not (model_ok and db_ok):
        return jsonify(
            {"error": {"code": "not_ready", "message": "model not loaded or database unreachable"}, **body}
        ), 503
    return jsonify(body)


@health.get("/openapi.json")
@scoped("public")
def openapi():
    path = Path(__file__).resolve().parent / "openapi.json"
    return Response(path.read_bytes(), mimetype="application/json")


# -- MLflow scoring-server conventions ---------------------------------------------------------
@mlflow.get("/ping")
@scoped("public")
def ping():
    return Response("\n", mimetype="application/json")


def _mlflow_texts(body) -> list:
    if isinstance(body, dict):
        if "instances" in body or "inputs" in body:
            key = "instances" if "instances" in body else "inputs"
            items = body[key]
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list):
                raise _invalid(f"'{key}' must be an array")
            return [i.get("text") if isinstance(i, dict) else i for i in items]
        if "dataframe_records" in body:
            records = body["dataframe_records"]
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise _invalid("'dataframe_records' must be an array of objects with 'text'")
            return [r.get("text") for r in records]
        if "dataframe_split" in body:
            split = body["dataframe_split"]
            if (
                not isinstance(split, dict)
                or not isinstance(split.get("columns"), list)
                or "text" not in split["columns"]
                or not isinstance(split.get("data"), list)
            ):
                raise _invalid("'dataframe_split' needs 'columns' containing 'text' and 'data'")
            col = split["columns"].index("text")
            return [row[col] if isinstance(row, list) and len(row) > col else None for row in split["data"]]
    raise _invalid(
        'send {"instances": [...]}, {"inputs": [...]}, {"dataframe_records": [{"text": ...}]} or {"dataframe_split": ...}'
    )


@mlflow.post("/invocations")
@scoped("public", region=True)
def invocations():
    cfg = current_app.config
    body = read_json()
    model = current_region().model
    texts = _mlflow_texts(body)
    if len(texts) > cfg["MAX_BATCH"]:
        raise _invalid(f"{len(texts)} inputs; the limit is {cfg['MAX_BATCH']}", "too_many_items")
    k = _k(body.get("params") or {}, model) if isinstance(body.get("params"), dict) else 3
    predictions: list[dict | None] = [None] * len(texts)
    good_idx, good = [], []
    for i, text in enumerate(texts):
        try:
            good.append(_check_text(text))
            good_idx.append(i)
        except ComplaintTextError as exc:
            predictions[i] = {"error": {"code": exc.code, "message": str(exc)}}
    withdrawn = current_state().withdrawn(current_region().slug)
    for i, s in zip(good_idx, model.suggest(good, k=k, withdrawn=withdrawn) if good else []):
        row: dict = {}
        for j, (agency, p) in enumerate(s.agencies, start=1):
            row[f"agency_{j}"] = agency
            row[f"probability_{j}"] = round(float(p), 4)
        row.update(s.to_dict())
        row["model_version"] = model.version
        predictions[i] = row
    return jsonify({"predictions": predictions})
