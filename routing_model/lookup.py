"""Lookup tables that objects in a model file rebuild on load instead of storing.

A file then stays exactly what it was before a table existed, and files saved earlier still
load: skops and pickle restore through ``__setstate__``, which rebuilds the tables.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable


class DerivedTables:
    """Mixin: attributes named in ``_derived`` are left out of the saved state and rebuilt by
    ``_derive()`` once the object is built (``__init__``, or ``fit`` for an estimator) and after
    loading."""

    _derived: tuple[str, ...] = ()

    def _derive(self) -> None:
        raise NotImplementedError

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._derived}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._derive()


def prefixes(keys: Iterable[str], sep: str = "") -> frozenset[str]:
    """Every leading part of every key: with ``sep=" "`` whole-word prefixes ("dinas",
    "dinas sosial"), with ``sep=""`` character prefixes. A scan that grows a candidate key one
    token at a time can stop as soon as the candidate is not in this set."""
    out: set[str] = set()
    for key in keys:
        if sep:
            parts = key.split(sep)
            out.update(sep.join(parts[:i]) for i in range(1, len(parts) + 1))
        else:
            out.update(key[:i] for i in range(1, len(key) + 1))
    return frozenset(out)


class KeyPrefixes:
    """``prefix in KeyPrefixes(keys)`` is ``prefix in prefixes(keys)`` (character prefixes),
    answered by bisecting the sorted keys instead of storing every prefix as a string of its
    own: for the national gazetteer's 67,000 place names, 0.5 MB instead of 22 MB in each
    service process, at about a microsecond per lookup."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = tuple(sorted(set(keys)))

    def __contains__(self, prefix: str) -> bool:
        i = bisect_left(self._keys, prefix)
        return bool(prefix) and i < len(self._keys) and self._keys[i].startswith(prefix)
