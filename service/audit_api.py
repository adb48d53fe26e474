"""The audit log over HTTP: ``GET /v1/audit`` (JSON, newest first, paged) and ``GET /v1/audit.xlsx``, for the
API tokens of supervisor and operator accounts (a province's supervisor: the rows of its regions); the desk serves
the same .xlsx at ``/desk/audit.xlsx``."""

from __future__ import annotations

import io
import json
from datetime import datetime

from flask import Blueprint, Response, jsonify, request

from . import sla
from .auth import Caller
from .errors import ApiError
from .scope import READS_AUDIT, current_caller, scoped
from .state import current_state

audit_v1 = Blueprint("audit_v1", __name__, url_prefix="/v1")
READERS = tuple(sorted(READS_AUDIT))
MAX_PER_PAGE, XLSX_ROWS = 500, 100_000


def may_read_audit(who: Caller) -> bool:
    return who.account is not None and who.account.role in READERS


def _int(name: str, default: int, hi: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        raise ApiError(422, "invalid_request", f"'{name}' must be an integer") from None
    if not 1 <= value <= hi:
        raise ApiError(422, "invalid_request", f"'{name}' must be between 1 and {hi}")
    return value


@audit_v1.get("/audit")
@scoped("supervise")
def audit_log():
    page = current_state().accounts.audit_page(
        _int("page", 1, 1_000_000), _int("per_page", 100, MAX_PER_PAGE), visible_regions()
    )
    return jsonify(page)


@audit_v1.get("/audit.xlsx")
@scoped("supervise")
def audit_export():
    return audit_xlsx_response()


def visible_regions() -> list[str] | None:
    """The regions whose audit rows the caller reads: a province's supervisor those of its province's regions (the
    deployment-wide rows, sign-ins and accounts, are the operator's); None: every row."""
    account = current_caller().account
    if account is None or account.role != "supervisor" or account.province is None:
        return None
    if current_state().models is not None:  # `serve --model`: one region, everyone's (as before regions)
        return None
    return [r.slug for r in current_state().served_regions() if r.province == account.province]


def audit_xlsx_response() -> Response:
    """The newest XLSX_ROWS audit rows as .xlsx, times in WIB."""
    import pandas as pd

    items = current_state().accounts.audit_page(1, XLSX_ROWS, visible_regions())["items"]
    rows = [
        {
            "Waktu (WIB)": datetime.fromisoformat(i["at"].replace("Z", "+00:00"))
            .astimezone(sla.LOCAL_TZ)
            .strftime("%Y-%m-%d %H:%M:%S"),
            "Akun": i["account"],
            "Tindakan": i["action"],
            "Subjek": i["subject"],
            "Alamat": i["address"],
            "Rincian": json.dumps(i["details"], ensure_ascii=False) if i["details"] else "",
        }
        for i in items
    ]
    frame = pd.DataFrame(rows, columns=["Waktu (WIB)", "Akun", "Tindakan", "Subjek", "Alamat", "Rincian"])
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="Audit")
    return Response(
        buf.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="audit-disposisi.xlsx"'},
    )
