"""The agency registry: every body a region can dispatch a complaint to.

It is a CSV a non-programmer can edit (``data/agencies/kab_bandung.csv``). The model uses it
twice: to match the messy agency names of LAPOR! exports to one canonical name, and as prior
knowledge (name, aliases, mandate) for agencies with few or no past complaints.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable
from .errors import DisposisiError

COLUMNS = ("name", "kind", "aliases", "place", "description", "status", "replaced_by")
KINDS = frozenset(
    {
        "pemerintah_daerah", "sekretariat", "inspektorat", "dinas", "badan", "bagian", "satpol_pp",
        "kecamatan", "rsud", "bumd", "vertikal", "dprd",
    }
)
STATUSES = frozenset({"active", "retired"})
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = REPO_ROOT / "data" / "agencies" / "kab_bandung.csv"


class RegistryError(DisposisiError, ValueError):
    """The registry file is malformed; the message names the row."""


@dataclass(frozen=True)
class Agency:
    name: str
    kind: str
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
        return d


_PUNCT = re.compile(r"[^0-9a-z ]+")
_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """Normalise an agency name for matching: case, spacing, punctuation and "Kab." vs "Kabupaten"."""
    key = _PUNCT.sub(" ", str(name).lower())
    key = _SPACES.sub(" ", key).strip()
    return " ".join("kabupaten" if w == "kab" else w for w in key.split(" "))


@dataclass
class Registry:
    agencies: tuple[Agency, ...]
    source: str = ""
    _index: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for agency in self.agencies:
            for label in (agency.name, *agency.aliases):
                key = name_key(label)
                if key in index and index[key] != agency.name:
                    raise RegistryError(f"'{label}' names both '{index[key]}' and '{agency.name}'")
                index[key] = agency.name
        self._index = index
        for agency in self.agencies:
            if agency.replaced_by and name_key(agency.replaced_by) not in index:
                raise RegistryError(f"'{agency.name}' is replaced_by '{agency.replaced_by}', which is not in the registry")

    # -- lookups -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.agencies)

    def get(self, name: str) -> Agency:
        for agency in self.agencies:
            if agency.name == name:
                return agency
        raise KeyError(name)

    def resolve(self, label: str) -> str | None:
        """Canonical name for a label as written in an export; follows renames; None if unknown."""
        name = self._index.get(name_key(label))
        seen = set()
        while name is not None and name not in seen:
            seen.add(name)
            agency = self.get(name)
            if agency.active or not agency.replaced_by:
                return name
            name = self._index.get(name_key(agency.replaced_by))
        return name

    @property
    def active(self) -> tuple[Agency, ...]:
        return tuple(a for a in self.agencies if a.active)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.agencies)

    # -- (de)serialisation ---------------------------------------------------------------
    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for a in self.agencies:
            row = a.as_dict()
            row["aliases"] = ";".join(a.aliases)
            writer.writerow(row)
        return buf.getvalue()

    @classmethod
    def from_csv_text(cls, text: str, source: str = "") -> "Registry":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        missing = [c for c in ("name", "kind") if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{source or 'registry'}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        return cls(tuple(_parse_row(row, n, source) for n, row in enumerate(reader, start=2)), source=source)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_REGISTRY) -> "Registry":
        path = Path(path)
        if not path.is_file():
            raise RegistryError(f"registry file not found: {path}")
        return cls.from_csv_text(path.read_text(encoding="utf-8"), source=str(path))

    @classmethod
    def from_agencies(cls, agencies: Iterable[Agency], source: str = "") -> "Registry":
        return cls(tuple(agencies), source=source)


def _parse_row(row: dict, lineno: int, source: str) -> Agency:
    where = f"{source or 'registry'} line {lineno}"
    name = (row.get("name") or "").strip()
    kind = (row.get("kind") or "").strip().lower()
    status = (row.get("status") or "active").strip().lower() or "active"
    if not name:
        raise RegistryError(f"{where}: empty name")
    if kind not in KINDS:
        raise RegistryError(f"{where}: kind '{kind}' is not one of {', '.join(sorted(KINDS))}")
    if status not in STATUSES:
        raise RegistryError(f"{where}: status '{status}' must be 'active' or 'retired'")
    aliases = tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip())
    return Agency(
        name=name,
        kind=kind,
        aliases=aliases,
        place=(row.get("place") or "").strip(),
        description=(row.get("description") or "").strip(),
        status=status,
        replaced_by=(row.get("replaced_by") or "").strip(),
    )
