"""Monev pages for supervisors: ``/monev`` (a province's regions), ``/monev/<region>`` (one region by week) and
``/monev.xlsx`` (the report), read-only, server-rendered (sorting by query arguments, SVG charts), no JavaScript.

Scope rule of every view here (for ``service/scope.py``): signed-in desk session with an **account**; operator and
a supervisor without a province see every region, a supervisor of a province that province's regions, admin and
viewer the regions granted to them (``service.monev.may_see_region``); an environment-token session is refused
(403); anyone not signed in is sent to sign in; a region or province the caller may not see is 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound

from .. import monev
from ..monev_xlsx import MIME, monev_workbook
from ..scope import scoped
from ..state import current_state
from . import charts
from .views import _session_user, _sign_in_redirect

monev_pages = Blueprint("monev", __name__, template_folder="templates")
# (figure, column header): the regions table, in order; every one sorts (``?sort=figure&dir=asc|desc``)
COLUMNS = (
    ("received", _l("Pengaduan masuk")),
    ("open", _l("Terbuka")),
    ("overdue", _l("Lewat batas")),
    ("overdue_now", _l("Lewat batas saat ini")),
    ("decided", _l("Diputuskan")),
    ("median_days", _l("Median hari kerja")),
    ("top1_rate", _l("Saran pertama")),
    ("top3_rate", _l("Salah satu dari 3")),
    ("corrections", _l("Koreksi")),
    ("forwards_in", _l("Diteruskan masuk")),
    ("forwards_out", _l("Diteruskan keluar")),
    ("lapor", _l("Ke LAPOR!")),
    ("lapor_pending_share", _l("Menunggu di LAPOR!")),
)
RATES = {"top1_rate", "top3_rate", "lapor_pending_share"}


@monev_pages.before_request
def _require_account():
    """Rule: signed in (else sign-in); an account (an environment-token session is refused)."""
    user, why = _session_user()
    if user is None:
        return _sign_in_redirect(why)
    g.user = user
    if user["caller"].account is None:
        raise Forbidden()
    return None


@monev_pages.errorhandler(NotFound)
def _not_found(exc):
    return render_template("desk/error.html", title=_("Tidak ditemukan"), message=_("Halaman ini tidak ada.")), 404


@monev_pages.errorhandler(Forbidden)
def _forbidden(exc):
    return render_template(
        "desk/error.html",
        title=_("Tidak ada akses"),
        message=_("Monev hanya untuk akun pengawas, operator, atau akun yang diberi wilayah; masuk dengan akun Anda."),
    ), 403


def _engine():
    return current_state().store.engine


def _today():
    return current_state().clock.today()


def _period() -> monev.Period:
    """The period of ``?from=&to=``; a bad one is said on the page and the default shown instead."""
    try:
        return monev.parse_period(request.args.get("from"), request.args.get("to"), _today())
    except monev.MonevError:
        flash(_("Periode tidak sah (tanggal YYYY-MM-DD, 'dari' tidak setelah 'sampai', paling lama 2 tahun)."), "error")
        return monev.default_period(_today())


def _scope():
    try:
        return monev.choose_scope(_engine(), g.user["caller"].account, request.args.get("province"))
    except monev.NotVisible:
        abort(404)


def weekly_chart(weeks: list[dict]) -> dict:
    """Complaints received per week, split into decided, still open within the deadline, and overdue."""
    return charts.weekly(
        [(w["iso"][-3:], [w["decided"], w["open"] - w["overdue"], w["overdue"]]) for w in weeks],
        [_("diputuskan"), _("terbuka, belum lewat batas"), _("lewat batas verifikasi")],
        axis_label=_("pengaduan masuk per minggu (ISO, Senin awal)"),
    )


@monev_pages.get("/monev")
@scoped("signed_in")
def overview():
    """Rule: regions per ``may_see_region``; another province is 404."""
    province, provinces, rows = _scope()
    period = _period()
    report = monev.monev(_engine(), rows, period, _today())
    sort = request.args.get("sort") if request.args.get("sort") in monev.SORTABLE else "name"
    descending = request.args.get("dir") == "desc"
    names = dict(provinces)
    return render_template(
        "desk/monev.html",
        report=report,
        rows=monev.sort_rows(report["regions"], sort, descending),
        sort=sort,
        descending=descending,
        columns=COLUMNS,
        rates=RATES,
        province=province,
        province_name=names.get(province, _("Semua provinsi")),
        provinces=provinces,
        all_provinces=g.user["caller"].account.role == "operator"
        or (g.user["caller"].account.role == "supervisor" and not g.user["caller"].account.province),
        period=period,
        chart=weekly_chart(report["weeks"]),
        keep={k: v for k, v in request.args.items() if k in ("province", "from", "to")},
        period_args={k: v for k, v in request.args.items() if k in ("from", "to")},
    )


@monev_pages.get("/monev/<region_slug>")
@scoped("signed_in")  # within: the regions the account sees (monev.may_see_region), else 404
def region(region_slug: str):
    """Rule: the region must pass ``may_see_region``, else 404 (another province's region is not there)."""
    row = monev.region_row(_engine(), region_slug)
    if row is None or not monev.may_see_region(g.user["caller"].account, row):
        abort(404)
    period = _period()
    report = monev.monev(_engine(), [row], period, _today())
    return render_template(
        "desk/monev_region.html",
        report=report,
        region=report["regions"][0],
        weeks=report["region_weeks"][region_slug],
        columns=COLUMNS,
        rates=RATES,
        province_name=monev.province_names().get(row["province"] or "", ""),
        period=period,
        chart=weekly_chart(report["region_weeks"][region_slug]),
    )


@monev_pages.get("/monev.xlsx")
@scoped("signed_in")
def report_xlsx():
    """Rule: as ``/monev``."""
    province, provinces, rows = _scope()
    try:
        period = monev.parse_period(request.args.get("from"), request.args.get("to"), _today())
    except monev.MonevError:
        flash(_("Periode tidak sah (tanggal YYYY-MM-DD, 'dari' tidak setelah 'sampai', paling lama 2 tahun)."), "error")
        return redirect(url_for("monev.overview", province=province or None), 303)
    report = monev.monev(_engine(), rows, period, _today())
    body = monev_workbook(report, dict(provinces).get(province, "Semua provinsi"), current_state().clock.now())
    name = f"monev-{province or 'semua'}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    return Response(body, mimetype=MIME, headers={"Content-Disposition": f'attachment; filename="{name}"'})
