"""The desk's public API (``/v1/complaints``, ``/v1/queue``): everything the desk page does, for integrations.

Token-protected (``Authorization: Bearer``); who may read and decide in which region is ``service/scope.py``'s
rule on each view. Every route is served twice by one view: under ``/v1/regions/<slug>/`` for a region of the
deployment, and without the slug for the default region (``serve --model``'s, or a one-region deployment's). A
decision by an account's token is recorded under its username. Errors use the service's one JSON error shape
(``service/errors.py``); documented in ``service/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from routing_model.io.tabular import TableError

from .complaints import DeskError, complaints_from_json
from .errors import ApiError
from .forwards import DIRECTIONS, forwards_page
from .json_body import read_json
from .scope import current_caller, current_region, scoped
from .state import current_state
from .uploads import complaints_from_upload

complaints_v1 = Blueprint("complaints_v1", __name__, url_prefix="/v1")
UPLOAD_ENDPOINTS = {"complaints_v1.import_file", "region_v1.import_file", "desk.upload"}


def _desk_error(exc: DeskError):
    from .errors import error_response

    return error_response(exc.status, exc.code, str(exc))


def _table_error(exc: TableError):
    from .errors import error_response

    return error_response(422, "invalid_file", str(exc))


complaints_v1.register_error_handler(DeskError, _desk_error)
complaints_v1.register_error_handler(TableError, _table_error)


def _import(items) -> tuple:
    st, region = current_state(), current_region()
    result = st.complaints.import_complaints(items, region.model, st.withdrawn(region.slug), region=region.slug)
    return jsonify(result.as_dict()), 201 if result.added else 200


@complaints_v1.post("/complaints")
@scoped("decide", region=True)
def post_complaints():
    body = read_json()
    if isinstance(body, dict):
        body = body.get("complaints")
    return _import(complaints_from_json(body, current_app.config["MAX_TEXT_CHARS"]))


@complaints_v1.post("/complaints/import")
@scoped("decide", region=True)
def import_file():
    return _import(complaints_from_upload(request.files.get("file")))


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
@scoped("read", region=True)
def queue():
    page = current_state().complaints.queue(
        region=current_region().slug,
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
@scoped("read", region=True)
def get_complaint(complaint_id: str):
    item = current_state().complaints.get(complaint_id, current_region().slug)
    if item is None:
        raise DeskError(f"no complaint {complaint_id!r}", "not_found", 404)
    return jsonify(item)


@complaints_v1.post("/complaints/<complaint_id>/decision")
@scoped("decide", region=True)
def decide(complaint_id: str):
    who = current_caller()
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
    st, region = current_state(), current_region()
    item = st.complaints.decide(
        complaint_id,
        fields["action"],
        who.recorded_as(fields["admin"]),
        region.model.registry,
        agency=fields["agency"],
        destination=fields["destination"],
        duplicate_of=fields["duplicate_of"],
        region=region.slug,
        destinations=st,
    )
    return jsonify(item), 201


@complaints_v1.post("/complaints/<complaint_id>/undo")
@scoped("decide", region=True)
def undo(complaint_id: str):
    by = current_caller().recorded_as()
    return jsonify(current_state().complaints.undo(complaint_id, by=by, region=current_region().slug))


@complaints_v1.get("/decisions/today.xlsx")
@scoped("read", region=True)
def export_today():
    store = current_state().complaints
    day = store.clock.today()
    return xlsx_response(store.export_day(day, current_region().slug), day)


@complaints_v1.get("/forwards")
@scoped("read", region=True)
def list_forwards():
    """The complaints forwarded into (``direction=in``, default) or out of (``out``) the region, newest first."""
    direction = request.args.get("direction", "in")
    if direction not in DIRECTIONS:
        raise ApiError(422, "invalid_request", "'direction' must be in or out")
    items = forwards_page(current_state().store.engine, current_region().slug, direction)
    return jsonify({"direction": direction, "items": items, "n": len(items)})


def xlsx_response(data: bytes, day) -> Response:
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="keputusan-disposisi-{day.isoformat()}.xlsx"'},
    )
