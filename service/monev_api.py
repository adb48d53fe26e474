"""Monev over HTTP: ``GET /v1/monev?province=&from=&to=`` (JSON) and ``GET /v1/monev.xlsx`` (the report), for
account API tokens.

Scope rule (for ``service/scope.py``): a bearer token of an **account** (``disposisi account token``); its regions
are ``service.monev.may_see_region``'s (operator and an all-province supervisor: every region; a province's
supervisor: that province; admin and viewer: their regions). An environment token has no scope: 403. A province
the account sees nothing of is 404, a bad period 422.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from . import monev
from .auth import bearer_role
from .errors import ApiError
from .monev_xlsx import MIME, monev_workbook
from .scope import scoped
from .state import current_state

monev_v1 = Blueprint("monev_v1", __name__, url_prefix="/v1")


def _report() -> tuple[dict, str]:
    """(the report, the province's name) for this request, after every check."""
    who = bearer_role("viewer")
    if who.account is None:
        raise ApiError(403, "forbidden", "Monev needs an account's token (disposisi account token)")
    st = current_state()
    try:
        province, provinces, rows = monev.choose_scope(st.store.engine, who.account, request.args.get("province"))
    except monev.NotVisible as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    try:
        period = monev.parse_period(request.args.get("from"), request.args.get("to"), st.clock.today())
    except monev.MonevError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    report = monev.monev(st.store.engine, rows, period, st.clock.today())
    name = dict(provinces).get(province, "Semua provinsi")
    return {"province": province or None, "province_name": name, **report}, name


@monev_v1.get("/monev")
@scoped("signed_in")  # the regions of the report are those the account sees (monev.choose_scope)
def monev_json():
    report, _ = _report()
    return jsonify(report)


@monev_v1.get("/monev.xlsx")
@scoped("signed_in")
def monev_xlsx():
    report, name = _report()
    body = monev_workbook(report, name, current_state().clock.now())
    return Response(body, mimetype=MIME, headers={"Content-Disposition": 'attachment; filename="monev.xlsx"'})
