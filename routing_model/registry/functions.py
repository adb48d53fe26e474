"""The shared functions: what an agency does, the same in every region.

Roads are *pekerjaan umum* and e-KTP is *administrasi kependudukan* whatever the dinas is called
locally. ``resources/functions.csv`` lists every urusan of UU 23/2014 with its Kepmendagri
nomenclature code, the supporting units, and the bodies that are not a dinas but receive
complaints (kelurahan/desa, puskesmas, BUMD, vertical bodies); see ``resources/FUNCTIONS.md``.
A registry row declares the codes it holds; a function's description is a training document
for regions that have no labeled complaints yet.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.io.tabular import read_text_file
from routing_model.text.name_keys import name_key

DEFAULT_FUNCTIONS = Path(__file__).resolve().parents[1] / "resources" / "functions.csv"
MAX_FUNCTIONS_FILE_BYTES = 2_000_000  # the packaged catalogue is ~27 kB
COLUMNS = ("code", "name", "group", "cluster", "place_bound", "description", "name_patterns")
GROUPS = frozenset(
    {"urusan", "penunjang", "pemerintah_daerah", "dprd", "wilayah", "layanan", "bumd", "vertikal", "provinsi"}
)
CLUSTERS = frozenset("abcdefg")
_CODE = re.compile(r"^(?:\d\.\d\d(?:\.\d\d)?|[A-Z]\.\d\d)$")


class FunctionsError(DisposisiError, ValueError):
    """The functions file is malformed; the message names the row."""


@dataclass(frozen=True)
class Function:
    """One shared function: an urusan, a supporting unit, or a kind of body that receives complaints."""

    code: str
    name: str
    group: str
    cluster: str
    place_bound: bool
    description: str
    patterns: tuple[str, ...]


class FunctionCatalogue:
    """The functions of a functions file, with name matching for ``registry init``."""

    def __init__(self, functions: tuple[Function, ...], source: str = ""):
        self.functions = tuple(functions)
        self.source = source
        self._by_code = {f.code: f for f in self.functions}
        self._patterns = tuple(
            (f.code, re.compile(rf"(?<![0-9a-z])(?:{p})(?![0-9a-z])")) for f in self.functions for p in f.patterns
        )

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path = DEFAULT_FUNCTIONS) -> FunctionCatalogue:
        """The catalogue in ``path``; the packaged default is read once per process."""
        path = Path(path)
        if path.resolve() == DEFAULT_FUNCTIONS:
            return _default_catalogue()
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> FunctionCatalogue:
        text = read_text_file(
            path, MAX_FUNCTIONS_FILE_BYTES, "functions file", "give a functions CSV saved as UTF-8", FunctionsError
        )
        return cls.from_csv_text(text, source=str(path))

    @classmethod
    def from_csv_text(cls, text: str, source: str = "") -> FunctionCatalogue:
        where = source or "functions"
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise FunctionsError(f"{where}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        functions: list[Function] = []
        seen: set[str] = set()
        for lineno, row in enumerate(reader, start=2):
            function = _parse_row(row, f"{where} line {lineno}")
            if function.code in seen:
                raise FunctionsError(f"{where} line {lineno}: code {function.code} appears twice")
            seen.add(function.code)
            functions.append(function)
        if not functions:
            raise FunctionsError(f"{where}: no functions")
        return cls(tuple(functions), source=source)

    # -- lookups ---------------------------------------------------------------------------
    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def get(self, code: str) -> Function:
        try:
            return self._by_code[code]
        except KeyError:
            raise FunctionsError(f"unknown function code '{code}'") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.functions)

    def document(self, code: str) -> str:
        """Name, description and pattern words as one complaint-like text (a training document)."""
        function = self.get(code)
        words = [p for p in function.patterns if re.fullmatch(r"[0-9a-z ]+", p)]
        return " ".join([f"{function.name}.", function.description, " ".join(words)]).strip()

    def match_name(self, agency_name: str) -> tuple[str, ...]:
        """Codes whose name patterns match an agency's name, as the name lists them; () when none.

        A match lying inside a longer match of another function is dropped, so the most specific
        reading wins: "Kantor Pertanahan" is the vertical land office, not the pertanahan urusan;
        "Sekretariat DPRD" is the secretariat, not the council.
        """
        key = name_key(agency_name)
        spans: list[tuple[int, int, str]] = []
        for code, pattern in self._patterns:
            for m in pattern.finditer(key):
                if m.end() > m.start():
                    spans.append((m.start(), m.end(), code))
        kept = [
            (start, end, code)
            for start, end, code in spans
            if not any(s <= start and end <= e and (e - s) > (end - start) and c != code for s, e, c in spans)
        ]
        first: dict[str, int] = {}
        for start, _, code in sorted(kept):
            first.setdefault(code, start)
        return tuple(sorted(first, key=lambda c: first[c]))


@lru_cache(maxsize=1)
def _default_catalogue() -> FunctionCatalogue:
    return FunctionCatalogue._read(DEFAULT_FUNCTIONS)


def _parse_row(row: dict, where: str) -> Function:
    code = (row.get("code") or "").strip()
    if not _CODE.match(code):
        raise FunctionsError(f"{where}: code '{code}' is not like 1.03, 1.05.04 or V.01")
    name = (row.get("name") or "").strip()
    if not name:
        raise FunctionsError(f"{where}: function {code} has no name")
    group = (row.get("group") or "").strip()
    if group not in GROUPS:
        raise FunctionsError(f"{where}: group '{group}' is not one of {', '.join(sorted(GROUPS))}")
    cluster = (row.get("cluster") or "").strip().lower()
    if cluster and cluster not in CLUSTERS:
        raise FunctionsError(f"{where}: cluster '{cluster}' is not a PP 18/2016 cluster letter a-g")
    bound = (row.get("place_bound") or "0").strip()
    if bound not in ("0", "1"):
        raise FunctionsError(f"{where}: place_bound must be 0 or 1, not '{bound}'")
    description = (row.get("description") or "").strip()
    if not description:
        raise FunctionsError(f"{where}: function {code} has no description")
    patterns = tuple(p.strip().lower() for p in (row.get("name_patterns") or "").split(";") if p.strip())
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise FunctionsError(f"{where}: name pattern '{pattern}' of {code} is not a valid regex: {exc}") from exc
    return Function(code, name, group, cluster, bound == "1", description, patterns)
