"""The desk's public API (``/v1/complaints``, ``/v1/queue``): everything the desk page does, for integrations.

Token-protected (``Authorization: Bearer``): admin tokens (and the API tokens of operator and admin accounts)
may import and decide, viewer tokens (and those of supervisor and viewer accounts) may read. A decision by an
account's token is recorded under its username. Errors use the service's one JSON error shape
(``service/errors.py``); documented in ``service/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from routing_model.io.tabular import TableError

from .auth import bearer_role
from .complaints import DeskError, complaints_from_json
from .errors import ApiError
from .json_body import read_json
from .state import current_state
from .uploads import complaints_from_upload

complaints_v1 = Blueprint("complaints_v1", __name__, url_prefix="/v1")
UPLOAD_ENDPOINTS = {"complaints_v1.import_file", "desk.upload"}


@complaints_v1.errorhandler(DeskError)
def _desk_error(exc: DeskError):
    from .errors import error_response

    return error_response(exc.status, exc.code, str(exc))


@complaints_v1.errorhandler(TableError)
def _table_error(exc: TableError):
    from .errors import error_response

    return error_response(422, "invalid_file", str(exc))


@complaints_v1.post("/complaints")
def post_complaints():
    bearer_role("admin")
    body = read_json()
    if isinstance(body, dict):
        body = body.get("complaints")
    items = complaints_from_json(body, current_app.config["MAX_TEXT_CHARS"])
    st = current_state()
    result = st.complaints.import_complaints(items, st.model, st.withdrawn())
    return jsonify(result.as_dict()), 201 if result.added else 200


@complaints_v1.post("/complaints/import")
def import_file():
    bearer_role("admin")
    items = complaints_from_upload(request.files.get("file"))
    st = current_state()
    result = st.complaints.import_complaints(items, st.model, st.withdrawn())
    return jsonify(result.as_dict()), 201 if result.added else 200


def _flag(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ApiError(422, "invalid_request", f"'{name}' must be true or false")


def _int(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        raise ApiError(422, "invalid_request", f"'{name}' must be an integer") from None


@complaints_v1.get("/queue")
def queue():
    bearer_role("viewer")
    page = current_state().complaints.queue(
        status=request.args.get("status", "open"),
        overdue=_flag("overdue"),
        needs_review=_flag("needs_review"),
        agency=request.args.get("agency") or None,
        q=request.args.get("q") or None,
        page=_int("page", 1),
        per_page=_int("per_page", 50),
    )
    return jsonify(page)


@complaints_v1.get("/complaints/<complaint_id>")
def get_complaint(complaint_id: str):
    bearer_role("viewer")
    item = current_state().complaints.get(complaint_id)
    if item is None:
        raise DeskError(f"no complaint {complaint_id!r}", "not_found", 404)
    return jsonify(item)


@complaints_v1.post("/complaints/<complaint_id>/decision")
def decide(complaint_id: str):
    who = bearer_role("admin")
    body = read_json()
    if not isinstance(body, dict):
        raise DeskError("the body must be a JSON object with 'action'")
    fields = {}
    for key in ("action", "agency", "destination", "duplicate_of", "admin"):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 300):
            raise DeskError(f"'{key}' must be a string of at most 300 characters")
        fields[key] = value
    if not fields["action"]:
        raise DeskError("'action' is required: accepted, corrected, not_our_authority or duplicate", "missing_field")
    st = current_state()
    item = st.complaints.decide(
        complaint_id,
        fields["action"],
        who.recorded_as(fields["admin"]),
        st.model.registry,
        agency=fields["agency"],
        destination=fields["destination"],
        duplicate_of=fields["duplicate_of"],
    )
    return jsonify(item), 201


@complaints_v1.post("/complaints/<complaint_id>/undo")
def undo(complaint_id: str):
    who = bearer_role("admin")
    return jsonify(current_state().complaints.undo(complaint_id, by=who.recorded_as()))


@complaints_v1.get("/decisions/today.xlsx")
def export_today():
    bearer_role("viewer")
    store = current_state().complaints
    day = store.clock.today()
    return xlsx_response(store.export_day(day), day)


def xlsx_response(data: bytes, day) -> Response:
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="keputusan-disposisi-{day.isoformat()}.xlsx"'},
    )
