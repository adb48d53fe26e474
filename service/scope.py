"""One rule per route: who may call it, and in which region (issue 17 part 3).

Every view function of every blueprint carries ``@scoped(need=..., region=...)``; ``tests/service/test_scope_table.py``
walks ``app.url_map`` and fails for a route without a rule. The rule is checked before the view runs:

- ``public``: anyone (suggestions, health); ``signed_in``: any caller with a role;
- ``read`` / ``decide``: the region's queue. Who sees a region: an operator every region; a supervisor the regions of
  its province (no province: all); an admin or viewer the regions granted to it (``account_regions``); an environment
  token (the bootstrap) every region. Who decides (and imports): an operator, an admin in its regions, an environment
  admin token. The region ``""`` of ``serve --model`` is everyone's, as before regions existed.
- ``supervise``: supervisor and operator accounts (the audit log); ``operate``: operator accounts.

A region the caller may not see answers exactly as a region that does not exist: 404, never 403 (no existence
oracle); a complaint of another region is not found by the stores, which read within the request's region only. A
write the caller's role may not do in a region it sees is 403 (the desk: a message and back to the page, as before).

``region=True`` routes take the region from the URL (``/v1/regions/<region>/...``); the same view without a slug
means the default region: ``""`` for ``serve --model``, the only region of a one-region deployment, and in the desk
also the only region the caller sees. ``current_region()`` is the region of the request, with its model taken once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from routing_model import RoutingModel

from .auth import Caller, bearer_role
from .errors import ApiError

NEEDS = ("public", "signed_in", "read", "decide", "supervise", "operate")
READS_AUDIT = frozenset({"supervisor", "operator"})


@dataclass(frozen=True)
class Rule:
    need: str
    region: bool


@dataclass(frozen=True)
class RegionContext:
    """The region a request acts in, with its model taken once (a reload mid-request never mixes two models)."""

    slug: str
    name: str
    province: str | None
    model: RoutingModel


def may_see(who: Caller, row) -> bool:
    """Whether ``who`` may read the queue of the region ``row`` (a ``RegionRow``)."""
    if who.role is None:
        return False
    account = who.account
    if row.slug == "" or account is None or account.role == "operator":
        return True
    if account.role == "supervisor":
        return account.province is None or account.province == row.province
    return row.slug in account.regions


def may_decide(who: Caller, row) -> bool:
    """Whether ``who`` may import and decide in the region ``row`` (which it may see)."""
    account = who.account
    if row.slug == "" or account is None:
        return who.role == "admin"
    return account.role == "operator" or (account.role == "admin" and row.slug in account.regions)


def scoped(need: str, region: bool = False):
    """Declare and enforce a view's rule (see the module docstring); a region route's ``region`` URL argument is
    consumed here, the view reads ``current_region()``."""
    if need not in NEEDS:
        raise ValueError(f"unknown scope need {need!r}")
    rule = Rule(need, region)

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            denied = enforce(rule, kwargs.pop("region", None))
            return denied if denied is not None else view(*args, **kwargs)

        wrapped.scope = rule
        return wrapped

    return decorate


def current_region() -> RegionContext:
    return g.region


def current_caller() -> Caller:
    return g.caller


SESSION_BLUEPRINTS = frozenset({"desk", "monev"})  # pages signed in by a desk session (and those nested in them)


def _in_desk() -> bool:
    return not SESSION_BLUEPRINTS.isdisjoint(request.blueprints)  # with the blueprints nested in the desk


def _bearer() -> Caller:
    """The bearer token's caller: 401 without a usable one, 403 for a token of no role (any role reads)."""
    return bearer_role("viewer")


def _not_found(slug: str | None):
    if slug is None:
        message = "this deployment serves several regions: use /v1/regions/<slug>/... (GET /v1/regions lists them)"
    else:
        message = f"no region '{slug}' in this deployment (GET /v1/regions lists yours)"
    if _in_desk():
        exc = NotFound()
        exc.pick_region = slug is None  # the desk answers /desk/ with its region picker instead
        exc.desk_message = (
            _("Pilih wilayah: deployment ini melayani beberapa wilayah.")
            if slug is None
            else _("Wilayah %(slug)s tidak ada.", slug=slug)
        )
        raise exc
    raise ApiError(404, "not_found", message)


def _forbidden(message: str):
    if _in_desk():
        flash(_("Akun atau token Anda hanya untuk melihat: Anda tidak bisa mengimpor atau memutuskan."), "error")
        back = urlsplit(request.referrer or "")
        same_site = back.netloc == request.host and back.path.startswith("/desk")
        return redirect(request.referrer if same_site else url_for("desk.queue")), 303
    raise ApiError(403, "forbidden", message)


def _default_slug(st, who: Caller | None) -> str | None:
    found = st.default_region()
    if found is None and who is not None and _in_desk():
        mine = [r.slug for r in st.served_regions() if may_see(who, r)]
        found = mine[0] if len(mine) == 1 else None
    return found


def enforce(rule: Rule, slug: str | None):
    """Check ``rule`` for this request: raise 401/403/404 (ApiError, or NotFound in the desk), return a response
    for a desk write that is refused, or None and set ``g.caller``/``g.region``."""
    st = current_app.extensions["disposisi"]
    who: Caller | None = None
    if rule.need != "public":
        who = g.user["caller"] if _in_desk() and getattr(g, "user", None) else _bearer()
        g.caller = who
        if rule.need in ("supervise", "operate"):
            allowed = READS_AUDIT if rule.need == "supervise" else {"operator"}
            if who.account is None or who.account.role not in allowed:
                if _in_desk():
                    raise NotFound()
                what = "the audit log is" if rule.need == "supervise" else "this is"
                raise ApiError(403, "forbidden", f"{what} for {' and '.join(sorted(allowed))} accounts")
    if not rule.region:
        return None
    if slug is None:
        slug = _default_slug(st, who)
        if slug is None:
            _not_found(None)
    row = st.served_region(slug)
    if row is None or (who is not None and rule.need in ("read", "decide") and not may_see(who, row)):
        _not_found(slug)
    if rule.need == "decide" and not may_decide(who, row):
        if who.account is None:
            message = "this is a viewer token: it may read the queue but not change anything"
        else:
            message = f"a {who.account.role} account may not change anything in {row.name or 'this region'}"
        denied = _forbidden(message)
        if denied is not None:
            return denied
    g.region = RegionContext(row.slug, row.name, row.province, st.model_for(row.slug))
    return None
