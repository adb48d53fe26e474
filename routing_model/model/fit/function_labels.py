"""Function-labeled rows as a fit parameter: what the shared base learns from every region's decisions.

A decision of any region, mapped through its agency's functions (``training.learning.function_rows``), is a row
(text, function code, weight). ``AgencyClassifier.fit(..., function_rows=...)`` reads their texts as complaints, so
they feed the shared vocabularies under the rule of today (a term needs two complaints or a public document, never a
digit), and their functions train the function model; the topic model never sees them (other regions' agencies are
not this registry's).

A text is read once however many rows name it (an agency of k functions gives k rows; the same complaint may be a
labeled row of the base's own region too): otherwise one citizen's words would count as two complaints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FunctionLabels:
    """Rows of (text, function code, weight), in any order; ``weights`` default to 1."""

    texts: tuple[str, ...]
    functions: tuple[str, ...]
    weights: np.ndarray

    @classmethod
    def of(cls, texts: Sequence, functions: Sequence, weights: Sequence | None = None) -> FunctionLabels:
        texts = tuple("" if t is None else str(t) for t in texts)
        functions = tuple(str(f) for f in functions)
        w = np.ones(len(texts)) if weights is None else np.asarray(weights, dtype=float)
        if not (len(texts) == len(functions) == len(w)):
            raise ValueError(f"{len(texts)} texts, {len(functions)} functions and {len(w)} weights")
        return cls(texts, functions, w)

    @classmethod
    def from_frame(cls, frame) -> FunctionLabels:
        """From ``training.learning.function_rows``' frame (columns text, function, weight)."""
        return cls.of(frame["text"].tolist(), frame["function"].tolist(), frame["weight"].tolist())

    def __len__(self) -> int:
        return len(self.texts)

    def placed(self, own_texts: Sequence[str]) -> PlacedFunctionLabels:
        """These rows beside ``own_texts`` (the labeled complaints of the same fit): the distinct texts to read after
        them, and each row's index among ``own_texts + extra_texts``."""
        position = {}
        for i, text in enumerate(own_texts):
            position.setdefault(str(text), i)
        extra: list[str] = []
        rows = np.empty(len(self.texts), dtype=np.int64)
        for r, text in enumerate(self.texts):
            if text not in position:
                position[text] = len(own_texts) + len(extra)
                extra.append(text)
            rows[r] = position[text]
        return PlacedFunctionLabels(tuple(extra), rows, self.functions, self.weights)


@dataclass(frozen=True)
class PlacedFunctionLabels:
    """Function rows placed in a fit's complaint rows: ``extra_texts`` are read after the labeled complaints;
    ``rows[i]`` is row i's complaint row (a labeled complaint's, or one of the extra texts')."""

    extra_texts: tuple[str, ...]
    rows: np.ndarray
    functions: tuple[str, ...]
    weights: np.ndarray

    def within(self, keep: np.ndarray) -> PlacedFunctionLabels:
        """The rows whose complaint row is among ``keep`` (complaint rows of a subset read, in its order),
        re-indexed to the subset; a row on a left-out complaint is dropped (a held-out text is never learnt)."""
        new = {int(old): i for i, old in enumerate(np.asarray(keep))}
        picked = [(new[int(r)], f, w) for r, f, w in zip(self.rows, self.functions, self.weights) if int(r) in new]
        return PlacedFunctionLabels(
            self.extra_texts,
            np.asarray([p[0] for p in picked], dtype=np.int64),
            tuple(p[1] for p in picked),
            np.asarray([p[2] for p in picked], dtype=float),
        )
