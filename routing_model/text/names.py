"""Personal names where citizens introduce them: "saya Zulkarnaen Wirabhumi", "nama saya …",
"Nama : …", "pelapor …", "Bapak/Ibu/Pak/Bu/Sdr/Saudara …" before capitalised words.

A name is recognised only by its introduction, never by capitals alone: a capitalised word
anywhere else is a place, an agency or the start of a sentence far more often than a name.
Titles of office survive ("Pak Camat", "Bu Lurah", "Bapak Bupati", "Ibu Kepala Dinas"): a run
that starts with a word of ``resources/jabatan.txt`` is not a name, and a name ends at the first
office word, stopword or ``resources/bukan_nama.txt`` word ("Nama : Ruslan Alamat …").
After the weak introduction "saya" (which is followed by verbs and nouns too: "Saya Memohon",
"saya Warga …"), and after any introduction glued to the next word, at least one word must look like a name: not in Sastrawi's dictionary and not
an affixed form of a dictionary word. The false-mask rate on the shared texts is measured by
``python -m bench.mask_report`` (docs/privacy.md).

Runs on the raw text, before lower-casing, as part of ``text.mask_personal_data``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from routing_model.text.lexicon import DEFAULT_STOPWORDS, RESOURCES, load_stopwords

NAME_TOKEN = "xnamax"

DEFAULT_OFFICES = RESOURCES / "jabatan.txt"
DEFAULT_NOT_NAMES = RESOURCES / "bukan_nama.txt"

# Honorifics and academic/religious titles kept in front of a name ("Bapak H. [nama]").
_HONORIFICS = frozenset(
    {
        "bapak",
        "ibu",
        "pak",
        "bu",
        "bpk",
        "bp",
        "sdr",
        "sdri",
        "saudara",
        "saudari",
        "h",
        "hj",
        "drs",
        "dra",
        "ir",
        "prof",
        "st",
    }
)
_WORD = r"[A-Z][A-Za-z'’]*\.?"
# The introductions, written so that the pattern starts with a character class (with the word
# boundary as a look-behind after it): `re` then skips ahead to a possible first letter instead
# of trying every position (~4x faster; tests compare it with the plain form).
_NAME = re.compile(
    r"[SsNnPpBbIi](?<![\w].)"
    r"(?:(?P<weak>(?<=[Ss])aya|(?<=S)AYA)"
    r"|(?<=[Nn])(?:ama|AMA)(?:[ \t]+(?:[Ss]aya|SAYA))?"
    r"|(?<=[Pp])(?:elapor|ELAPOR|ak|AK)"
    r"|(?<=[Bb])(?:apak|APAK|u|U|pk\.?|PK\.?|p\.)"
    r"|(?<=[Ii])(?:bu|BU)"
    r"|(?<=[Ss])(?:dri?\.?|DRI?\.?|audar[ai]|AUDAR[AI]))"
    r"(?:[ \t]*:)?(?:[ \t]+|(?<=[a-z]))"  # also glued by a lost line break: "Hormat SayaGin Gin"
    rf"(?P<run>{_WORD}(?:(?:[ \t]+|(?<=\.)){_WORD}){{0,5}})"
)
# Words of a run, split again at case joints lost with line breaks ("RUSLANAlamat",
# "PutraNo") so that a label glued to a name still ends it.
_WORDS = re.compile(r"[A-Z](?:[a-z'’]+|[A-Z]*(?![a-z]))\.?")
_ELONGATED = re.compile(r"(.)\1\1").search  # "Buuu", "Pakkk": an exclamation, not a name
_UPPER = re.compile(r"[A-Z]").search  # cheap necessary condition: a name starts with one


@lru_cache(maxsize=1)
def _not_names() -> frozenset[str]:
    return load_stopwords(DEFAULT_OFFICES) | load_stopwords(DEFAULT_NOT_NAMES) | load_stopwords(DEFAULT_STOPWORDS)


@lru_cache(maxsize=1)
def office_words() -> frozenset[str]:
    """Titles of office that must survive masking (``resources/jabatan.txt``)."""
    return load_stopwords(DEFAULT_OFFICES)


def _looks_like_name(word: str) -> bool:
    """Not a dictionary word, nor an affixed one ("Memohon", "Mengecat")."""
    if len(word) < 3 or _ELONGATED(word):
        return False
    if not word.isascii() or not word.isalpha():
        return True
    from routing_model.text.stemming import fast_stemmer, sastrawi_words

    return word not in sastrawi_words() and fast_stemmer().stem_word(word) == word


def _replace(match: re.Match, found: list[str] | None) -> str:
    run = match.group("run")
    head = match.group(0)[: match.start("run") - match.start()]
    words = list(_WORDS.finditer(run))
    keys = [w.group(0).rstrip(".").lower() for w in words]
    i = 0
    while i < len(words) and keys[i] in _HONORIFICS:
        i += 1
    stop = _not_names()
    j = i
    while j < len(words) and keys[j] not in stop:
        j += 1
    # "saya" is a weak introduction, and so is one glued to the next word by a lost line
    # break ("pa/buTerlampir", "Bapak/IbuPerusahaan"): then a word must look like a name.
    weak = match.group("weak") or head[-1:].isalpha()
    if j == i or (weak and not any(_looks_like_name(k) for k in keys[i:j])):
        cut = words[0].end()  # leave this introduction, look again in the rest ("Ibu Saya Budi")
        return head + run[:cut] + mask_names(run[cut:], found)
    start, end = words[i].start(), words[j - 1].end()
    if words[j - 1].group(0).endswith(".") and len(keys[j - 1]) > 2:
        end -= 1  # a full stop after the name ends the sentence, it is not an initial
    if found is not None:
        found.append(run[start:end])
    return f"{head}{run[:start]} {NAME_TOKEN} {mask_names(run[end:], found)}"


def mask_names(text: str, found: list[str] | None = None) -> str:
    """Replace names introduced as described above with ``NAME_TOKEN``; each masked span is
    appended to ``found`` when given (for the false-mask report)."""
    if not _UPPER(text):
        return text
    return _NAME.sub(lambda m: _replace(m, found), text)
