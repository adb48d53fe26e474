"""One way to compare names: agency names of a registry, function name patterns, region and province names,
place names, and the column headers of a table all reduce to a key through ``name_key``.

The callers differ only in what they read as a word and how the words are joined; those differences are
the parameters, not copies of the function.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from routing_model.text.cleaning import clean, tokenize

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_HEADER_SEPARATORS = re.compile(r"[\s_\-]+")

Keep = Literal["alnum", "letters", "punctuation"]


def name_key(name: str, *, keep: Keep = "alnum", joiner: str = " ", kabupaten: bool = False) -> str:
    """``name`` lower-cased, cut into words and joined by ``joiner``.

    ``keep``: what a word is made of.
    - ``"alnum"``: letters a-z and digits; anything else separates words ("Dinas P.U." -> "dinas p u").
    - ``"letters"``: the name read as a complaint is (``text.clean``: personal data masked, accents folded, glued
      words split), letters only: keys that match a complaint's tokens (place names: with ``joiner=""``,
      "Solokan-Jeruk" and "Solokanjeruk" both give "solokanjeruk").
    - ``"punctuation"``: only whitespace, "_" and "-" separate; other characters stay (column headers: "No." is
      not "No").
    ``kabupaten``: "kab" is written out as "kabupaten" (agency names: "Kab." and "Kabupaten" are the same).
    """
    if keep == "letters":
        words = tokenize(clean(str(name)))
    elif keep == "alnum":
        words = _alnum_words(str(name))
    elif keep == "punctuation":
        words = _HEADER_SEPARATORS.sub(" ", str(name).lower()).split()
    else:
        raise ValueError(f"keep must be 'alnum', 'letters' or 'punctuation', not {keep!r}")
    if kabupaten:
        words = ["kabupaten" if w == "kab" else w for w in words]
    return joiner.join(words)


@lru_cache(maxsize=1 << 16)
def _alnum_words(name: str) -> tuple[str, ...]:
    """Registries resolve every label of a table through their names: the same few hundred names, cached."""
    return tuple(_NON_ALNUM.sub(" ", name.lower()).split())
