"""The desk's pages: sign-in, the day's queue, one complaint, decisions and undo, export, overview, forwards.

Every POST follows post/redirect/get; errors an admin can cause come back as a message on the page
(``flash``), never as a traceback, and change nothing.

A region's pages are served twice by the same view functions (as ``service/region_api.py`` does for the API):
``/desk/...`` means the default region (the only one of the deployment, or the only one the caller sees) and
``/desk/wilayah/<slug>/...`` names the region; ``service/scope.py`` takes it from the URL and every link of a page
under ``/wilayah/<slug>/`` keeps it (``_keep_region``). ``/desk/`` for a caller who sees several regions is the
region picker.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from routing_model.io.tabular import TableError

from .. import sla
from ..accounts import username_key
from ..audit_api import audit_xlsx_response, may_read_audit
from ..auth import Caller, caller, role_for, token_hash
from ..complaints import PAGE_SIZE, DeskError
from ..complaints_api import xlsx_response
from ..scope import current_region, may_see, scoped
from ..state import current_state
from ..uploads import complaints_from_upload
from . import charts, regions_view
from .forms import DecisionForm, EmptyForm, PasswordSignInForm, SignInForm, UploadForm
from .highlight import segments
from .i18n import LANGUAGES, select_locale
from .operator import operator

desk = Blueprint(
    "desk", __name__, url_prefix="/desk", template_folder="templates", static_folder="static", static_url_path="/static"
)
desk.register_blueprint(operator)  # the operator's pages, under /desk/operator
PUBLIC = {"desk.sign_in", "desk.static", "desk.language"}
ACTION_LABELS = {
    "accepted": _l("Diterima"),
    "corrected": _l("Dikoreksi"),
    "not_our_authority": _l("Bukan wewenang"),
    "duplicate": _l("Duplikat"),
}
ROLE_LABELS = {
    "operator": _l("operator"),
    "supervisor": _l("pengawas"),
    "admin": _l("admin"),
    "viewer": _l("pemantau"),
    "token_viewer": _l("hanya melihat"),
}
DESTINATION_GROUPS = {
    "served": _l("Dilayani di sini (pindah ke antrean wilayah itu)"),
    "regions": _l("Kabupaten dan kota lain (diteruskan di LAPOR!)"),
    "provinces": _l("Pemerintah provinsi (diteruskan di LAPOR!)"),
    "national": _l("Instansi pusat dan nasional (diteruskan di LAPOR!)"),
}
# the model's warnings (Suggestion.warnings), in the order the review tag names the first that applies
WARNING_LABELS = {
    "outside_region": _l("menyebut tempat di luar wilayah ini"),
    "too_few_words": _l("terlalu sedikit kata"),
    "not_indonesian": _l("bukan bahasa Indonesia"),
    "live_precision_low": _l("saran ke instansi ini sering dikoreksi admin akhir-akhir ini"),
}


# -- session -------------------------------------------------------------------------------------
def _session_user() -> tuple[dict | None, str | None]:
    """(user, why not): the signed-in user, or None and "expired"/"revoked"/"none"."""
    who = caller("session")
    if who.role is None:
        return None, who.why
    name = who.account.username if who.account else session.get("name") or ""
    label = ROLE_LABELS[who.account.role if who.account else "admin" if who.role == "admin" else "token_viewer"]
    return {"role": who.role, "name": name, "caller": who, "label": label}, None


def _safe_next(target: str | None) -> str:
    """Only same-site paths under /desk or /monev (no open redirect)."""
    if target and target.startswith(("/desk", "/monev")) and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("desk.queue")


def _sign_in_redirect(why: str):
    keep = {k: session[k] for k in ("lang",) if k in session}
    session.clear()
    session.update(keep)
    if why == "expired":
        flash(_("Sesi Anda telah berakhir. Silakan masuk lagi; tindakan terakhir tidak disimpan."), "error")
    elif why == "revoked":
        flash(_("Sesi, akun atau token Anda tidak berlaku lagi. Silakan masuk lagi."), "error")
    else:
        flash(_("Silakan masuk."), "info")
    nxt = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
    return redirect(
        url_for("desk.sign_in", next=_safe_next(urlsplit(nxt or "").path if request.method != "GET" else nxt))
    )


@desk.before_request
def _require_sign_in():
    if request.endpoint in PUBLIC:
        return None
    user, why = _session_user()
    if user is None:
        return _sign_in_redirect(why)
    g.user = user
    return None


def _recorded_as() -> str:
    """The signed-in account's username; for a token session the typed name, else the token's fingerprint."""
    return g.user["caller"].recorded_as(session.get("name"))


@desk.url_defaults
def _keep_region(endpoint: str, values: dict) -> None:
    """A page under ``/desk/wilayah/<slug>/`` links to the same region's pages (``region=None`` links out of it)."""
    if endpoint in REGION_ENDPOINTS and "region" not in values and has_request_context():
        here = (request.view_args or {}).get("region")
        if here:
            values["region"] = here


@desk.app_template_global()
def visible_regions() -> list:
    """The served regions the signed-in caller may see (the header's switcher, the picker), by name."""
    user = current_user()
    if user is None:
        return []
    return [r for r in current_state().served_regions() if may_see(user["caller"], r)]


@desk.app_template_global()
def region_here():
    """The region of this page (its ``RegionContext``), or None on a page of no region."""
    return getattr(g, "region", None)


def _region_names() -> dict[str, str]:
    """slug -> name of every region this deployment has had (a forward names regions since removed too)."""
    st = current_state()
    names = {r.slug: r.name for r in st.regions.list()}
    names.update({r.slug: r.name for r in st.served_regions()})
    return names


@desk.app_template_global()
def current_user():
    return getattr(g, "user", None)


@desk.app_template_global()
def reads_audit() -> bool:
    user = current_user()
    return user is not None and may_read_audit(user["caller"])


@desk.app_template_global()
def sees_monev() -> bool:
    """Whether the menu shows Monev: any signed-in account (what it shows is scoped by ``service.monev``)."""
    user = current_user()
    return user is not None and user["caller"].account is not None


@desk.app_template_global()
def ui_lang() -> str:
    return select_locale()


@desk.app_template_filter("pct")
def _pct(value):
    return "—" if value is None else format_percent(value, "#,##0 %")


@desk.app_template_filter("conf")
def _conf(value):
    """A suggestion's confidence: never "0 %" for an agency the model did suggest."""
    return "<1 %" if value is not None and value < 0.005 else _pct(value)


@desk.app_template_filter("num")
def _num(value):
    return "—" if value is None else format_decimal(value, "#,##0.#")


@desk.app_template_filter("day")
def _day(value):
    if not value:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "d MMM yyyy")


@desk.app_template_filter("moment")
def _moment(value):
    """An ISO time (UTC, as stored) as the admins' local date and time."""
    if not value:
        return "—"
    from datetime import datetime

    at = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(sla.LOCAL_TZ)
    return f"{format_date(at.date(), 'd MMM yyyy')} {at:%H:%M}"


@desk.app_template_filter("week")
def _week(value):
    return format_date(value, "d MMM")


@desk.app_template_global()
def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@desk.app_template_global()
def warning_labels(warnings, unknown: bool = True) -> list[str]:
    """The model's warning codes as admins read them, in the order of ``WARNING_LABELS``; an
    unknown code is shown as it is, last (or left out with ``unknown=False``)."""
    codes = list(warnings or [])
    known = [str(label) for code, label in WARNING_LABELS.items() if code in codes]
    return known + ([c for c in codes if c not in WARNING_LABELS] if unknown else [])


# -- sign in / out / language ----------------------------------------------------------------------
def _sign_in_page(status: int = 200, form=None, token_form=None):
    return render_template(
        "desk/sign_in.html",
        form=form or PasswordSignInForm(),
        token_form=token_form or SignInForm(),
        has_accounts=current_state().accounts.any(),
    ), status


def _throttled(until) -> tuple:
    when = until.astimezone(sla.LOCAL_TZ).strftime("%H:%M")
    flash(_("Terlalu banyak percobaan masuk yang gagal. Coba lagi setelah pukul %(time)s WIB.", time=when), "error")
    return _sign_in_page(429)


def _start_session(account, digest: str | None = None, name: str = ""):
    """A fresh session (the old one ended, its contents and CSRF token dropped) with a new id recorded in the
    database."""
    store = current_state().accounts
    if session.get("sid"):
        store.end_session(session["sid"])
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    lifetime = timedelta(minutes=current_app.config["SESSION_MINUTES"])
    sid = store.start_session(account.id if account else None, lifetime)
    session.update({"sid": sid, "at": time.time()})
    if account is not None:
        session["uid"] = account.id
    else:
        session.update({"tok": digest, "name": name})
    if lang:
        session["lang"] = lang
    return redirect(_safe_next(request.args.get("next")), 303)


@desk.route("/masuk", methods=["GET", "POST"])
@scoped("public")
def sign_in():
    if request.method == "GET":
        return _sign_in_page()
    accounts = current_state().accounts
    address = request.remote_addr
    if "token" not in request.form:  # username and password
        form = PasswordSignInForm()
        if not form.validate():
            return _sign_in_page(422, form=form)
        username = username_key(form.username.data)
        until = accounts.locked_until(username, address)
        if until is not None:
            accounts.refuse_sign_in(username, address, until, "password")
            return _throttled(until)
        account = accounts.check_sign_in(username, form.password.data, address)
        if account is None:
            flash(_("Nama pengguna atau kata sandi salah."), "error")
            return _sign_in_page(401, form=form)
        return _start_session(account)
    form = SignInForm()
    if not form.validate():
        return _sign_in_page(422, token_form=form)
    until = accounts.locked_until(None, address)
    if until is not None:
        accounts.refuse_sign_in(None, address, until, "token")
        return _throttled(until)
    digest = token_hash(form.token.data.strip())
    if role_for(digest) is None:
        accounts.audit(None, "sign_in_failed", None, {"via": "token"}, address)
        flash(_("Token tidak dikenal. Periksa token Anda atau minta token kepada pengelola Disposisi."), "error")
        return _sign_in_page(401, token_form=form)
    name = (form.name.data or "").strip()[:100]
    accounts.audit(Caller(None, digest).recorded_as(name), "sign_in", None, {"via": "token"}, address)
    return _start_session(None, digest, name)


@desk.post("/keluar")
@scoped("signed_in")
def sign_out():
    if session.get("sid"):
        current_state().accounts.end_session(session["sid"])
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Anda sudah keluar."), "info")
    return redirect(url_for("desk.sign_in"), 303)


@desk.get("/bahasa/<lang>")
@scoped("public")
def language(lang: str):
    if lang not in LANGUAGES:
        abort(404)
    session["lang"] = lang
    return redirect(_safe_next(request.args.get("next")), 303)


# -- queue ---------------------------------------------------------------------------------------
def _queue_args() -> dict:
    def flag(name):
        return request.args.get(name, "") in ("1", "on", "true")

    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    status = request.args.get("status", "open")
    return {
        "status": status if status in ("open", "decided", "all") else "open",
        "overdue": flag("overdue"),
        "needs_review": flag("review"),
        "agency": request.args.get("agency") or None,
        "q": (request.args.get("q") or "").strip()[:200] or None,
        "page": page,
    }


@desk.get("/")
@scoped("read", region=True)
def queue():
    args = _queue_args()
    store = current_state().complaints
    region = current_region().slug
    page = store.queue(**args, per_page=PAGE_SIZE, region=region)
    statuses = [("open", _("Terbuka")), ("decided", _("Sudah diputuskan")), ("all", _("Semua"))]
    link_args = {k: v for k, v in request.args.items() if k != "page"}
    arrived = regions_view.arrived_by_forward(store.engine, region, [i["id"] for i in page["items"]])
    return render_template(
        "desk/queue.html",
        arrived=arrived,
        region_names=_region_names() if arrived else {},
        page=page,
        args=args,
        statuses=statuses,
        agencies=store.agencies_in_queue(region),
        upload=UploadForm(),
        link_args=link_args,
        today=store.clock.today(),
    )


@desk.post("/impor")
@scoped("decide", region=True)
def upload():
    form = UploadForm()
    st, region = current_state(), current_region()
    try:
        items = complaints_from_upload(request.files.get(form.file.name))
        result = st.complaints.import_complaints(items, region.model, st.withdrawn(region.slug), region=region.slug)
    except TableError as exc:
        flash(_("Impor gagal, tidak ada yang disimpan: %(why)s", why=str(exc)), "error")
        return redirect(url_for("desk.queue"), 303)
    flash(
        _(
            "%(added)s pengaduan baru diimpor; %(existing)s sudah ada sebelumnya; %(dups)s dengan kemiripan (duplikat).",
            added=result.added,
            existing=result.skipped_existing,
            dups=result.duplicates_found,
        ),
        "ok",
    )
    return redirect(url_for("desk.queue"), 303)


@desk.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    limit = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    flash(_("Berkas terlalu besar: batasnya %(mb)s MB. Tidak ada yang disimpan.", mb=limit), "error")
    return redirect(url_for("desk.queue"), 303)


@desk.errorhandler(CSRFError)
def _csrf_error(exc):
    if request.endpoint == "desk.sign_in":
        flash(_("Formulir masuk sudah kedaluwarsa atau tanpa token keamanan (CSRF). Silakan coba lagi."), "error")
        return _sign_in_page(400, PasswordSignInForm(formdata=None), SignInForm(formdata=None))
    user, why = _session_user()
    if user is None:
        return _sign_in_redirect(why)
    return render_template(
        "desk/error.html",
        title=_("Formulir tidak sah"),
        message=_(
            "Formulir ini tidak membawa token keamanan yang berlaku (CSRF). Muat ulang halaman lalu coba lagi; "
            "tidak ada yang disimpan."
        ),
    ), 400


@desk.errorhandler(NotFound)
def _not_found(exc):
    if getattr(exc, "pick_region", False) and current_user() is not None:
        # a caller who sees several regions: /desk/ is the picker; another page without a region says to pick one
        return _picker(200 if request.endpoint == "desk.queue" and request.method == "GET" else 404)
    return render_template(
        "desk/error.html",
        title=_("Tidak ditemukan"),
        message=getattr(exc, "desk_message", None) or _("Halaman ini tidak ada."),
    ), 404


def _picker(status: int):
    """ "Pilih wilayah": the regions the caller may see, each with its open and overdue complaints."""
    st = current_state()
    mine = visible_regions()
    counts = regions_view.region_counts(st.store.engine, [r.slug for r in mine], st.clock.today())
    return render_template("desk/regions.html", regions=mine, counts=counts, status=status), status


# -- one complaint ---------------------------------------------------------------------------------
def _missing(complaint_id: str):
    exc = NotFound()
    exc.desk_message = _("Pengaduan dengan Tracking ID %(id)s tidak ada.", id=complaint_id)
    raise exc


@desk.get("/pengaduan/<complaint_id>")
@scoped("read", region=True)
def complaint(complaint_id: str):
    st, region = current_state(), current_region()
    item = st.complaints.get(complaint_id, region.slug)
    if item is None:
        _missing(complaint_id)
    prev_id, next_id = st.complaints.neighbours(complaint_id, region.slug)
    can_undo = (
        item["status"] == "decided"
        and item["decision"]["decided_at"]
        and _decided_today(item, st.complaints.clock.today())
    )
    registry = region.model.registry
    groups = regions_view.destinations(st.served(), region.slug, region.name)
    chosen, other = regions_view.prefill(groups, item["outside_region"])
    return render_template(
        "desk/complaint.html",
        item=item,
        segments=segments(item["text"] or "", item["reasons"]),
        form=DecisionForm(
            destination=chosen,
            destination_other=other,
            duplicate_of=item["duplicates"][0]["id"] if item["duplicates"] else "",
        ),
        destination_groups=groups,
        group_labels=DESTINATION_GROUPS,
        region_names=_region_names() if item["forwards"] else {},
        undo=EmptyForm(),
        can_undo=can_undo,
        agencies=[a.name for a in registry.active],
        prev_id=prev_id,
        next_id=next_id,
    )


def _decided_today(item: dict, today: date) -> bool:
    from datetime import datetime

    decided = datetime.fromisoformat(item["decision"]["decided_at"].replace("Z", "+00:00"))
    return decided.astimezone(sla.LOCAL_TZ).date() == today


@desk.post("/pengaduan/<complaint_id>/keputusan")
@scoped("decide", region=True)
def decide(complaint_id: str):
    form = DecisionForm()
    st, region = current_state(), current_region()
    if not form.validate():
        flash(_("Isian tidak sah: %(why)s", why="; ".join(e for errs in form.errors.values() for e in errs)), "error")
        return redirect(url_for("desk.complaint", complaint_id=complaint_id), 303)
    try:
        item = st.complaints.decide(
            complaint_id,
            form.action.data or "",
            _recorded_as(),
            region.model.registry,
            agency=form.agency.data,
            destination=(form.destination_other.data or "").strip() or form.destination.data,
            duplicate_of=form.duplicate_of.data,
            region=region.slug,
            destinations=st,
        )
    except DeskError as exc:
        if exc.status == 404:
            _missing(complaint_id)
        flash(_("Keputusan tidak disimpan: %(why)s", why=str(exc)), "error")
        return redirect(url_for("desk.complaint", complaint_id=complaint_id), 303)
    if item.get("forward"):
        where = item["forward"]["destination"]
        flash(
            _(
                "Diteruskan ke %(where)s: pengaduan %(id)s kini ada di antrean wilayah itu.",
                where=where,
                id=complaint_id,
            ),
            "ok",
        )
        return redirect(url_for("desk.queue"), 303)
    d = item["decision"]
    what = action_label(d["action"]) + (
        f": {d['agency']}"
        if d["action"] in ("accepted", "corrected")
        else f": {d['destination']}"
        if d["destination"]
        else f": {d['duplicate_of']}"
        if d["duplicate_of"]
        else ""
    )
    flash(
        {
            "text": _("Pengaduan %(id)s — %(what)s.", id=complaint_id, what=what),
            "link": url_for("desk.complaint", complaint_id=complaint_id),
            "link_text": _("Lihat atau batalkan"),
        },
        "ok",
    )
    next_id = st.complaints.neighbours(complaint_id, region.slug)[1]
    if next_id:
        return redirect(url_for("desk.complaint", complaint_id=next_id), 303)
    return redirect(url_for("desk.queue"), 303)


@desk.post("/pengaduan/<complaint_id>/batal")
@scoped("decide", region=True)
def undo(complaint_id: str):
    EmptyForm()
    try:
        current_state().complaints.undo(complaint_id, by=_recorded_as(), region=current_region().slug)
    except DeskError as exc:
        if exc.status == 404:
            _missing(complaint_id)
        flash(_("Tidak bisa dibatalkan: %(why)s", why=str(exc)), "error")
    else:
        flash(_("Keputusan untuk %(id)s dibatalkan; pengaduan kembali terbuka.", id=complaint_id), "ok")
    return redirect(url_for("desk.complaint", complaint_id=complaint_id), 303)


@desk.get("/ekspor")
@scoped("read", region=True)
def export():
    store = current_state().complaints
    day = store.clock.today()
    return xlsx_response(store.export_day(day, current_region().slug), day)


@desk.get("/diteruskan")
@scoped("read", region=True)
def forwarded():
    """The region's forwards, out and in: a complaint moved away cannot be opened here any more, but its row stays."""
    rows = regions_view.forward_rows(current_state().store.engine, current_region().slug)
    return render_template("desk/forwards.html", rows=rows, region_names=_region_names())


@desk.get("/audit.xlsx")
@scoped("supervise")
def audit_export():
    return audit_xlsx_response()


# -- overview for the head of unit ---------------------------------------------------------------------
@desk.get("/ringkasan")
@scoped("read", region=True)
def overview():
    data = current_state().complaints.overview(region=current_region().slug)
    per = data["per_agency_week"]
    totals = sorted(((a, sum(w.values())) for a, w in per.items()), key=lambda t: (-t[1], t[0]))
    agency_chart = charts.hbar(
        [(a, n, format_decimal(n)) for a, n in totals[:15]],
        axis_label=_("pengaduan, %(n)s minggu terakhir data", n=len(data["weeks"])),
    )
    top_cell = max((n for w in per.values() for n in w.values()), default=0)
    heat = [
        {
            "agency": a,
            "cells": [
                {"n": per[a].get(wk, 0), "level": charts.heat_level(per[a].get(wk, 0), top_cell)}
                for wk in data["weeks"]
            ],
            "total": n,
        }
        for a, n in totals
    ]
    acceptance = charts.hbar(
        [(v, (r["rate"] or 0) * 100, f"{_pct(r['rate'])} (n={r['decided']})") for v, r in data["acceptance"].items()],
        percent=True,
        axis_label=_("diterima sesuai saran pertama"),
    )
    return render_template("desk/overview.html", data=data, agency_chart=agency_chart, heat=heat, acceptance=acceptance)


# -- the same region pages under /desk/wilayah/<slug>/ -------------------------------------------------
REGION_PAGES = (
    ("/", "GET", queue),
    ("/impor", "POST", upload),
    ("/pengaduan/<complaint_id>", "GET", complaint),
    ("/pengaduan/<complaint_id>/keputusan", "POST", decide),
    ("/pengaduan/<complaint_id>/batal", "POST", undo),
    ("/ekspor", "GET", export),
    ("/ringkasan", "GET", overview),
    ("/diteruskan", "GET", forwarded),
)
REGION_ENDPOINTS = frozenset(f"desk.{view.__name__}" for _, _, view in REGION_PAGES)
for _rule, _method, _view in REGION_PAGES:
    desk.add_url_rule(f"/wilayah/<region>{_rule}", endpoint=_view.__name__, view_func=_view, methods=[_method])
