"""A deployment of two regions for the tests: Kabupaten Bandung and Kota Samarinda (standard registries), both
adapted from the demo model, with an account (and its API token) for every role."""

from __future__ import annotations

import shutil
from pathlib import Path

from clock_helpers import RECENT, test_clock

BANDUNG, SAMARINDA = "kabupaten-bandung", "kota-samarinda"
ROLES = {  # account -> (role, regions, province)
    "opa": ("operator", (), None),
    "sup-jabar": ("supervisor", (), "Jawa Barat"),
    "sup-kaltim": ("supervisor", (), "Kalimantan Timur"),
    "adm-bandung": ("admin", ("Kabupaten Bandung",), None),
    "adm-samarinda": ("admin", ("Kota Samarinda",), None),
    "view-bandung": ("viewer", ("Kabupaten Bandung",), None),
}
PASSWORD = "kata-sandi-uji-2026"
ENV_ADMIN, ENV_VIEWER = "env-admin-token", "env-viewer-token"
TEXTS = {
    BANDUNG: "Jalan di Desa Jelekong Kecamatan Baleendah rusak parah dan berlubang, mohon segera diperbaiki",
    SAMARINDA: "Lampu penerangan jalan di Kelurahan Sidodadi Kecamatan Samarinda Ulu mati sejak seminggu, gelap",
}


def build_deployment(base_model_dir: Path, data_dir: Path) -> dict[str, str]:
    """Add both regions to a new deployment in ``data_dir`` (the first names the base); account -> API token."""
    from service.accounts import AccountStore
    from service.db import default_sqlite_url, upgrade
    from service.region_setup import add_region
    from service.regions import RegionStore
    from service.store import FeedbackStore

    url = default_sqlite_url(data_dir)
    upgrade(url)
    store = FeedbackStore(url, clock=test_clock())
    try:
        regions = RegionStore(store)
        add_region(regions, data_dir, "Kabupaten Bandung", base=base_model_dir)
        add_region(regions, data_dir, "Kota Samarinda")
        accounts = AccountStore(store)
        tokens = {}
        for name, (role, where, province) in ROLES.items():
            accounts.create(name, PASSWORD, role, where, province)
            tokens[name] = accounts.issue_token(name)[1]
    finally:
        store.close()
    return tokens


def copy_deployment(template: Path, data_dir: Path) -> Path:
    """A private copy of a built deployment (its database and files), for a test that changes it."""
    shutil.copytree(template, data_dir, symlinks=True)
    for leftover in data_dir.glob("disposisi.sqlite3-*"):  # WAL files belong to the template's closed engine
        leftover.unlink()
    return data_dir


def items(region: str, n: int = 2, prefix: str | None = None) -> list[dict]:
    tag = prefix or ("B" if region == BANDUNG else "S")
    return [
        {"id": f"{tag}-{i}", "text": f"{TEXTS[region]} ({i})", "received": f"{RECENT}T08:0{i}:00"} for i in range(n)
    ]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
