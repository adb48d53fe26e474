"""PySastrawi 1.2.1's ``Stemmer.stem_word``, re-expressed as plain functions and tables.

Sastrawi runs every word through a Context object, ~45 visitor objects and dozens of
``re.match(pattern_string, ...)`` calls; that object machinery, not the algorithm, is what
makes it slow (~100-170 µs for a word outside its dictionary). This module performs the same
steps in the same order with string tests instead:

* the ECS control flow of ``Context.start_stemming_process`` (dictionary checks after every
  step, the confix-stripping precedence adjustment, suffix removal, up to three rounds of
  prefix removal, ``loop_pengembalian_akhiran``), including ``DontStemShortWord``'s quirk:
  for a word of <= 3 letters only the *first* visitor of each group (particle removal,
  plain-prefix removal) still runs;
* the prefix disambiguation rules 1-42 of ``VisitorProvider``, in Sastrawi's order, grouped
  by the word's first two letters (a rule can only fire on words with its own prefix); a
  rule with several variants (1a/1b, 17a-d, 30a-c, ...) keeps Sastrawi's choice: the first
  variant that is a dictionary word, otherwise the *last* variant's answer (which for rule
  30 can be "no match", so rules 31-42 are then tried, as in Sastrawi);
* the plural path (``is_plural`` / ``stem_plural_word``) for hyphenated words.

The dictionary is Sastrawi's own, used as-is (``stemming.sastrawi_words()``);
nothing of it is copied here. ``tests/model/test_fast_stem.py`` checks the output against
Sastrawi word for word on the whole shared vocabulary plus a generated affix stress set.
Words with characters outside ``[a-z-]`` (where Sastrawi's regexes treat upper case,
digits, newlines or regex metacharacters in ways not worth re-deriving) are handed to a
real Sastrawi stemmer over the same dictionary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

__all__ = ["FastStemmer"]

_V = frozenset("aiueo")
_C = frozenset("bcdfghjklmnpqrstvwxyz")  # Sastrawi's consonant class (includes r)
_C_NO_R = frozenset("bcdfghjklmnpqstvwxyz")  # rule 5
_C35 = frozenset("bcdfghjkpqstvxz")  # rules 35/36
_AZ = frozenset("abcdefghijklmnopqrstuvwxyz")
_MP_NEXT = frozenset("abcdfghijklmopqrstuvwxyz")  # rule 19: memp + [^e n]
_PARTICLES = frozenset(("lah", "kah", "tah", "pun"))
_PLURAL_SUFFIXES = frozenset(("ku", "mu", "nya", "lah", "kah", "tah", "pun"))
_PLAIN = frozenset(("di", "ke", "se"))
_SUPPORTED = re.compile(r"[a-z-]*").fullmatch
# ConfixStripping.PrecedenceAdjustmentSpecification, as one pattern.
_PRECEDENCE = re.compile(r"be.*lah$|be.*an$|me.*i$|di.*i$|pe.*i$|ter.*i$").match


# --- prefix disambiguation rules (Sastrawi/Morphology/Disambiguator) -----------------------
# Each group function gets a word starting with the group's two letters, which is NOT in the
# dictionary, and returns the first rule result (in VisitorProvider order), or None.


def _ce(w: str, d) -> str | None:
    """Rules 37-39: C{er|el|em}V -> C{er|el|em}V (37a-39a) or CV (37b-39b)."""
    if len(w) >= 4 and w[2] in "rlm" and w[3] in _V:
        return w if w in d else w[0] + w[3:]
    return None


def _ci(w: str, d) -> str | None:
    """Rule 40: CinV -> CinV (40a) or CV (40b)."""
    if len(w) >= 4 and w[2] == "n" and w[3] in _V:
        return w if w in d else w[0] + w[3:]
    return None


def _ku(w: str, d) -> str | None:
    return w[2:]  # rule 41: ku-A


def _ka(w: str, d) -> str | None:
    return w[3:] if w[2:3] == "u" else None  # rule 42: kau-A


def _be(w: str, d) -> str | None:
    n = len(w)
    c2 = w[2] if n > 2 else ""
    if c2 == "r" and n > 3:
        c3 = w[3]
        if c3 in _V:  # rule 1: ber-V | be-rV
            a = w[3:]
            return a if a in d else "r" + a
        if c3 in _C and n > 4 and w[4] in _AZ:
            if w[5:7] != "er":  # rule 2: berCAP, P != er
                return w[3:]
            if n > 7 and w[7] in _V and c3 != "r":  # rule 3: berCAerV
                return w[3:]
    if w == "belajar":  # rule 4
        return "ajar"
    if c2 in _C_NO_R and w[3:5] == "er" and n > 5 and w[5] in _C:  # rule 5: beC1erC2
        return w[2:]
    return _ce(w, d)


def _te(w: str, d) -> str | None:
    n = len(w)
    c2 = w[2] if n > 2 else ""
    if c2 == "r" and n > 3:
        c3 = w[3]
        if c3 in _V:  # rule 6: ter-V | te-rV
            a = w[3:]
            return a if a in d else "r" + a
        if c3 in _C and c3 != "r":
            if w[4:6] == "er":
                if n > 6 and w[6] in _V:  # rule 7: terCerV
                    return w[3:]
                # rule 8 refuses P = er
            else:  # rule 8: terCP
                return w[3:]
    if c2 in _C and c2 != "r" and w[3:5] == "er" and n > 5 and w[5] in _C:  # rule 9
        return w[2:]
    if c2 == "r" and n > 6 and w[3] in _C35 and w[4:6] == "er" and w[6] in _C:  # rule 35
        return w[3:]
    return _ce(w, d)


def _me(w: str, d) -> str | None:
    n = len(w)
    if n < 4:
        return None
    c2, c3 = w[2], w[3]
    if c2 in "lrwy" and c3 in _V:  # rule 10
        return w[2:]
    if c2 == "m":
        if c3 in "bfv":  # rule 11
            return w[3:]
        if c3 == "p" and n > 4 and w[4] == "e":  # rule 12: mempe -> pe
            return w[3:]
        if c3 in _V:  # rule 13: me-mV | me-pV
            a = "m" + w[3:]
            return a if a in d else "p" + w[3:]
    elif c2 == "n":
        if c3 in "cdjstz":  # rule 14
            return w[3:]
        if c3 in _V:  # rule 15: me-nV | me-tV
            a = "n" + w[3:]
            return a if a in d else "t" + w[3:]
        if n > 4:
            c4 = w[4]
            if c3 == "g":
                if c4 in "ghqk":  # rule 16
                    return w[4:]
                if c4 in _V:  # rule 17a-d
                    a = w[4:]
                    if a in d:
                        return a
                    b = "k" + a
                    if b in d:
                        return b
                    if c4 == "e":
                        c = w[5:]
                        if c in d:
                            return c
                    return "ng" + a
            elif c3 == "y" and c4 in _V:  # rule 18: me-nyV | meny-sV
                a = "ny" + w[4:]
                return a if a in d else "s" + w[4:]
    if c2 == "m" and c3 == "p" and n > 4 and w[4] in _MP_NEXT:  # rule 19
        return w[3:]
    return _ce(w, d)


def _pe(w: str, d) -> str | None:
    n = len(w)
    if n < 3:
        return None
    c2 = w[2]
    c3 = w[3] if n > 3 else ""
    if c2 in "wy" and c3 in _V and c3:  # rule 20
        return w[2:]
    if c2 == "r" and c3:
        if c3 in _V:  # rule 21: per-V | pe-rV
            a = w[3:]
            return a if a in d else w[2:]
        if c3 in _C and n > 4 and w[4] in _AZ:
            if w[5:7] != "er":  # rule 23: perCAP
                return w[3:]
            if n > 7 and w[7] in _V and c3 != "r":  # rule 24: perCAerV
                return w[3:]
    if c2 == "m" and c3:
        if c3 in "bfv":  # rule 25
            return w[3:]
        if c3 in _V:  # rule 26: pe-mV | pe-pV
            a = "m" + w[3:]
            return a if a in d else "p" + w[3:]
    elif c2 == "n" and c3:
        if c3 in "cdjstz":  # rule 27
            return w[3:]
        if c3 in _V:  # rule 28: pe-nV | pe-tV
            a = "n" + w[3:]
            return a if a in d else "t" + w[3:]
        if n > 4:
            c4 = w[4]
            if c3 == "g":
                if c4 in _C:  # rule 29
                    return w[4:]
                if c4 in _V:  # rule 30a-c; 30c's None wins when nothing is a word
                    a = w[4:]
                    if a in d:
                        return a
                    if "k" + a in d:
                        return "k" + a
                    if c4 == "e":
                        return w[5:]
            elif c3 == "y" and c4 in _V:  # rule 31: pe-nyV | peny-sV
                a = "ny" + w[4:]
                return a if a in d else "s" + w[4:]
    if w == "pelajar":  # rule 32
        return "ajar"
    if c2 == "l" and c3 and c3 in _V:
        return w[2:]
    if c2 in _C and w[3:5] != "er":  # rule 34: peCP, P != er
        return w[2:]
    if c2 in _C35 and w[3:5] == "er" and n > 5 and w[5] in _C:  # rule 36
        return w[2:]
    return _ce(w, d)


def _build_prefix_table() -> dict[str, Callable]:
    table: dict[str, Callable] = {}
    for c in _C:
        table[c + "e"] = _ce
        table[c + "i"] = _ci
    table.update(be=_be, te=_te, me=_me, pe=_pe, ku=_ku, ka=_ka)
    return table


_PREFIX_RULES = _build_prefix_table()


class _DictionaryView:
    """The tiny part of Sastrawi's ArrayDictionary its Stemmer uses, over our mapping."""

    def __init__(self, words):
        self.words = words

    def contains(self, word):
        return word in self.words


class FastStemmer:
    """Same stems as ``Sastrawi.Stemmer.Stemmer.stem_word`` over the same dictionary, faster."""

    def __init__(self, dictionary_words: Mapping[str, str] | set[str], fallback: Callable[[str], str] | None = None):
        self.words = dictionary_words
        self._fallback = fallback

    # -- pieces of Context ---------------------------------------------------------------

    def _remove_prefixes(self, w: str, stopped: bool) -> str:
        """Context.remove_prefixes: up to three rounds of accept_prefix_visitors."""
        d = self.words
        rules = _PREFIX_RULES
        plain = _PLAIN
        for _ in range(3):
            head = w[:2]
            if head in plain:
                w = w[2:]  # RemovePlainPrefix
            elif stopped or w in d:
                return w
            else:
                rule = rules.get(head)
                r = rule(w, d) if rule is not None else None
                if r is None:
                    return w  # nothing removed; further rounds would do the same
                w = r
            if w in d:
                return w
        return w

    def _stem_singular(self, word: str) -> str:
        """Context(word).execute().result"""
        d = self.words
        if word in d:
            return word
        stopped = len(word) <= 3  # DontStemShortWord
        remove_prefixes = self._remove_prefixes

        if _PRECEDENCE(word):
            w = remove_prefixes(word, stopped)
            if w in d:
                return w
            w = self._remove_suffixes(w, stopped, None)
            if w in d:
                return w
            # failed: restore the original word, suffix-first order below

        removals: list[tuple[str, str]] = []
        w = self._remove_suffixes(word, stopped, removals)
        if w in d:
            return w
        w = remove_prefixes(w, stopped)
        if w in d:
            return w

        # ECS loop pengembalian akhiran: restart from the original word (restore_prefix)
        # and put the removed suffixes back one by one, last removed first.
        for subject, result in reversed(removals):
            if subject == result + "kan":  # removed part is exactly "kan"
                w = remove_prefixes(result + "k", stopped)
                if w in d:
                    return w
            w = remove_prefixes(subject, stopped)
            if w in d:
                return w
        return word

    def _remove_suffixes(self, w: str, stopped: bool, removals: list | None) -> str:
        """Context.remove_suffixes: particle, possessive pronoun, derivational suffix."""
        d = self.words
        if w[-3:] in _PARTICLES:  # -*(lah|kah|tah|pun)$
            r = w[:-3].rstrip("-")
            if removals is not None:
                removals.append((w, r))
            w = r
        if stopped or w in d:
            return w
        if w.endswith("nya"):  # -*(ku|mu|nya)$
            r = w[:-3].rstrip("-")
        elif w.endswith(("ku", "mu")):
            r = w[:-2].rstrip("-")
        else:
            r = None
        if r is not None:
            if removals is not None:
                removals.append((w, r))
            w = r
            if w in d:
                return w
        # (is|isme|isasi|i|kan|an)$ -- the leftmost match is the longest matching suffix
        if w.endswith("i"):
            r = w[:-5] if w.endswith("isasi") else w[:-1]
        elif w.endswith("isme"):
            r = w[:-4]
        elif w.endswith("kan"):
            r = w[:-3]
        elif w.endswith(("is", "an")):
            r = w[:-2]
        else:
            return w
        if removals is not None:
            removals.append((w, r))
        return r

    # -- Stemmer ---------------------------------------------------------------------------

    def stem_word(self, word: str) -> str:
        """Stemmer.stem_word"""
        if "-" not in word:
            if word in self.words:
                return word
            if not _SUPPORTED(word):
                return self._delegate(word)
            return self._stem_singular(word)
        if not _SUPPORTED(word):
            return self._delegate(word)
        # is_plural: a trailing -ku/-mu/-nya/-lah/... does not make a word plural by itself
        head, _, tail = word.rpartition("-")
        if tail in _PLURAL_SUFFIXES and "-" not in head:
            return self._stem_singular(word)
        return self._stem_plural(word, head, tail)

    def _stem_plural(self, plural: str, first: str, second: str) -> str:
        """Stemmer.stem_plural_word (the word split at its last hyphen: first-second)."""
        if second in _PLURAL_SUFFIXES and "-" in first:
            # malaikat-malaikat-nya -> malaikat, malaikat-nya
            first, _, middle = first.rpartition("-")
            second = middle + "-" + second
        stem = self._stem_singular
        root1 = stem(first)
        root2 = stem(second)
        if second not in self.words and root2 == second:
            root2 = stem("me" + second)  # meniru-nirukan -> tiru
        return root1 if root1 == root2 else plural

    def _delegate(self, word: str) -> str:
        if self._fallback is None:
            from Sastrawi.Stemmer.Stemmer import Stemmer

            self._fallback = Stemmer(_DictionaryView(self.words)).stem_word
        return self._fallback(word)
