"""TF-IDF rows and linear scores from fitted numbers alone, without scikit-learn.

A served model is plain data (``artifact.served``): each TF-IDF view is a ``TermView`` (vocabulary,
idf, how text is cut into terms) and each linear model its coefficients. These functions compute
``TfidfVectorizer.transform``'s numbers from those fitted attributes, faster than scikit-learn for
one complaint (no input validation, no intermediate matrices; each word's ``char_wb`` features
looked up once per view), and without importing it: a service worker that does not load
scikit-learn holds about 100 MB less. Training passes its fitted ``TfidfVectorizer`` itself (the
attributes have the same names); ``tests/model/test_inference_paths.py`` compares both ways with
scikit-learn's own ``transform`` on the shared data.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import scipy.sparse as sp


@dataclass(eq=False)
class TermView:
    """A fitted TF-IDF view as plain data, with ``TfidfVectorizer``'s attribute names.

    Only the configurations Disposisi fits are represented: ``word`` terms cut by
    ``token_pattern`` (n-grams joined by a space) or ``char_wb`` n-grams, raw counts or
    sublinear tf, idf, l2 rows or none.
    """

    analyzer: str
    ngram_range: tuple[int, int]
    vocabulary_: dict[str, int]
    idf_: np.ndarray | None
    sublinear_tf: bool = True
    norm: str | None = "l2"
    lowercase: bool = True
    token_pattern: str = r"(?u)\b\w\w+\b"

    @property
    def use_idf(self) -> bool:
        return self.idf_ is not None

    @classmethod
    def of(cls, vectorizer) -> TermView:
        """The view of a fitted ``TfidfVectorizer`` (same vocabulary dict, same idf array)."""
        if not handled(vectorizer):
            raise ValueError(
                f"a TF-IDF view needs analyzer 'word' or 'char_wb', norm 'l2' or None and no preprocessor "
                f"or tokenizer of its own; got {vectorizer!r}"
            )
        return cls(
            vectorizer.analyzer,
            tuple(vectorizer.ngram_range),
            vectorizer.vocabulary_,
            vectorizer.idf_ if vectorizer.use_idf else None,
            bool(vectorizer.sublinear_tf),
            vectorizer.norm,
            bool(vectorizer.lowercase),
            vectorizer.token_pattern,
        )

    def feature_names(self) -> np.ndarray:
        """Terms in column order (what ``get_feature_names_out`` gives)."""
        vocabulary = self.vocabulary_
        return np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=object)

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows of ``docs`` (float64, as ``TfidfVectorizer.transform``)."""
        return weigh_counts(term_counts(self, docs), self)


def handled(vectorizer) -> bool:
    """Whether a fitted ``TfidfVectorizer`` is one this module computes exactly."""
    return (
        getattr(vectorizer, "norm", None) in ("l2", None)
        and not getattr(vectorizer, "binary", True)
        and getattr(vectorizer, "input", None) == "content"
        and getattr(vectorizer, "dtype", np.float64) in (np.float64, float)
        and getattr(vectorizer, "analyzer", None) in ("word", "char_wb")
        and getattr(vectorizer, "preprocessor", 0) is None
        and getattr(vectorizer, "tokenizer", 0) is None
        and getattr(vectorizer, "strip_accents", 0) is None
        and getattr(vectorizer, "stop_words", 0) is None
        and (vectorizer.analyzer == "char_wb" or re.compile(vectorizer.token_pattern).groups == 0)
    )


def char_wb_grams(word: str, min_n: int, max_n: int) -> tuple[str, ...]:
    """The ``char_wb`` n-grams of one word, as scikit-learn's ``_char_wb_ngrams`` emits them:
    the word padded with a space each side; a padded word no longer than n counts once."""
    padded = f" {word} "
    size = len(padded)
    out: list[str] = []
    for n in range(min_n, max_n + 1):
        if size <= n:
            out.append(padded)
            break
        out.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(out)


_WORD_CACHE = 50_000  # distinct words per vectorizer; ~1 KB each
_word_features: weakref.WeakKeyDictionary[object, tuple[dict, Callable]] = weakref.WeakKeyDictionary()


def word_features(vectorizer) -> Callable[[str], tuple[int, ...]]:
    """word -> the vocabulary indices of its ``char_wb`` n-grams, memoised per fitted view
    (a complaint repeats its words, and complaints share most of theirs). A refit vectorizer has
    a new ``vocabulary_`` and gets a new memo."""
    entry = _word_features.get(vectorizer)
    if entry is None or entry[0] is not vectorizer.vocabulary_:
        vocabulary = vectorizer.vocabulary_
        min_n, max_n = vectorizer.ngram_range

        @lru_cache(maxsize=_WORD_CACHE)
        def features(word: str) -> tuple[int, ...]:
            return tuple(j for j in map(vocabulary.get, char_wb_grams(word, min_n, max_n)) if j is not None)

        entry = _word_features[vectorizer] = (vocabulary, features)
    return entry[1]


def word_terms(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    """Word n-grams of ``tokens``, joined by a space, as scikit-learn's ``_word_ngrams`` makes them."""
    out = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _row_features(vectorizer, docs: Sequence[str]) -> Iterator[list[int]]:
    """Per document: the vocabulary index of every feature occurrence."""
    lower = vectorizer.lowercase
    if vectorizer.analyzer == "char_wb":
        features = word_features(vectorizer)
        for doc in docs:
            yield list(chain.from_iterable(map(features, (doc.lower() if lower else doc).split())))
    else:
        find, (min_n, max_n), vocabulary = (
            re.compile(vectorizer.token_pattern).findall,
            vectorizer.ngram_range,
            vectorizer.vocabulary_,
        )
        for doc in docs:
            yield [
                vocabulary[f] for f in word_terms(find(doc.lower() if lower else doc), min_n, max_n) if f in vocabulary
            ]


def term_counts(vectorizer, docs: Sequence[str], dtype=np.float64, chunk: int = 4096) -> sp.csr_matrix:
    """How often each vocabulary term occurs in each document (``CountVectorizer.transform``'s
    numbers), read ``chunk`` documents at a time so that a province's texts never hold more
    than one chunk's occurrences as Python objects. ``vectorizer``: a ``TermView`` or a fitted
    ``TfidfVectorizer`` it ``handled``."""
    n_terms, data, indices, indptr = len(vectorizer.vocabulary_), [], [], [np.zeros(1, np.int64)]
    for start in range(0, len(docs), chunk):
        found = list(_row_features(vectorizer, docs[start : start + chunk]))
        lengths = np.fromiter(map(len, found), np.int64, len(found))
        cells = np.fromiter(chain.from_iterable(found), np.int64, int(lengths.sum()))
        cells += np.repeat(np.arange(len(found), dtype=np.int64) * n_terms, lengths)  # row * n_terms + column, sortable
        cells, times = np.unique(cells, return_counts=True)
        rows, cols = np.divmod(cells, n_terms)
        indices.append(cols.astype(np.int32))
        data.append(times.astype(dtype))
        indptr.append(np.cumsum(np.bincount(rows, minlength=len(found))) + indptr[-1][-1])
    if not data:
        return sp.csr_matrix((0, n_terms), dtype=dtype)
    return sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.concatenate(indptr)), shape=(len(docs), n_terms)
    )


_WEIGH_SLICE = 1 << 22  # occurrences weighed at a time: the idf gathered for them is the only temporary


def weigh_counts(counts: sp.csr_matrix, vectorizer) -> sp.csr_matrix:
    """``counts`` made into the vectorizer's TF-IDF rows in place (sublinear tf, idf, unit
    rows), in slices so that a matrix of 10^8 occurrences needs no second copy of itself."""
    data, cols = counts.data, counts.indices
    if vectorizer.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    if vectorizer.use_idf:
        idf = vectorizer.idf_.astype(data.dtype, copy=False)
        for start in range(0, len(data), _WEIGH_SLICE):
            data[start : start + _WEIGH_SLICE] *= idf[cols[start : start + _WEIGH_SLICE]]
    if vectorizer.norm == "l2":
        normalise_rows(counts)
    return counts


def normalise_rows(matrix: sp.csr_matrix) -> None:
    """Scale each row of a CSR matrix to unit length in place, as scikit-learn's
    ``inplace_csr_row_normalize_l2`` does (squares in the data's type, summed in float64;
    empty rows stay empty), a slice of rows at a time."""
    indptr, data = matrix.indptr, matrix.data
    rows = len(indptr) - 1
    start = 0
    while start < rows:
        stop = int(np.searchsorted(indptr, indptr[start] + _WEIGH_SLICE, side="right")) - 1
        stop = min(max(stop, start + 1), rows)
        lo, hi = int(indptr[start]), int(indptr[stop])
        lengths = np.diff(indptr[start : stop + 1])
        if hi > lo:
            chunk = data[lo:hi]
            starts = (indptr[start:stop] - lo)[lengths > 0]
            sums = np.add.reduceat(chunk * chunk, starts, dtype=np.float64)
            norms = np.ones(stop - start)
            norms[lengths > 0] = np.sqrt(sums)
            norms[norms == 0.0] = 1.0
            chunk /= np.repeat(norms, lengths)
        start = stop


def linear_scores(model, X) -> np.ndarray:
    """A fitted multi-class linear model's ``decision_function(X)``: ``X @ coef_.T + intercept_``.

    For a few complaints, over only the columns they use: scipy converts the whole (float32,
    transposed) coefficient matrix to a float64 copy for every product, which was 40 % of a
    suggestion's time, while a complaint uses a few hundred of tens of thousands of columns.
    The sums are the same, in the same order."""
    X = sp.csr_matrix(X)
    coef = model.coef_
    if X.nnz >= X.shape[1]:  # a big batch uses most columns: one conversion for all of it
        return np.asarray(X @ (coef.toarray() if isinstance(coef, ColumnCoef) else coef).T) + model.intercept_
    columns, position = np.unique(X.indices, return_inverse=True)
    used = sp.csr_matrix((X.data, position.reshape(-1), X.indptr), shape=(X.shape[0], len(columns)))
    gathered = coef.columns(columns) if isinstance(coef, ColumnCoef) else coef.T[columns]
    return np.asarray(used @ np.asarray(gathered, dtype=np.float64)) + model.intercept_


class ColumnCoef:
    """A (classes x features) coefficient matrix kept as its non-zero columns only: a region's topic model fitted
    on its registry alone touches about half of the base's columns, and the others are exactly zero. Gives the
    same numbers as the dense matrix (``columns``, ``toarray``, ``[row, cols]``); ``used`` is (columns x classes),
    so the values of one feature are side by side (a suggestion reads a few hundred features: few pages)."""

    def __init__(self, index: np.ndarray, used: np.ndarray, shape: tuple[int, int]):
        self.index, self.used, self.shape = index, used, (int(shape[0]), int(shape[1]))
        self.dtype = used.dtype

    @classmethod
    def of(cls, coef: np.ndarray) -> ColumnCoef:
        keep = kept_columns(coef)
        return cls(keep.astype(np.int32), np.ascontiguousarray(coef[:, keep].T), coef.shape)

    def values(self, kept) -> np.ndarray:
        """The kept columns ``kept`` (positions in ``index``) as (columns x classes) values."""
        return self.used[kept]

    def columns(self, columns: np.ndarray) -> np.ndarray:
        """``coef.T[columns]``: (len(columns) x classes)."""
        out = np.zeros((len(columns), self.shape[0]), dtype=self.dtype)
        if len(self.index):
            at = np.minimum(np.searchsorted(self.index, columns), len(self.index) - 1)
            found = self.index[at] == columns
            out[found] = self.values(at[found])
        return out

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.dtype)
        out[:, self.index] = self.values(np.arange(len(self.index))).T
        return out

    def __getitem__(self, key):
        """``coef[row, :n]`` and the like: from the dense row(s)."""
        rows, cols = key
        return self.columns(np.arange(self.shape[1])[cols]).T[rows]


def kept_columns(coef: np.ndarray) -> np.ndarray:
    """The columns of ``coef`` holding anything but +0.0."""
    return np.flatnonzero(np.any((coef != 0) | np.signbit(coef), axis=0))


# -- 8-bit coefficients ------------------------------------------------------------------------------------------
LEVELS = 127  # a column's values are whole multiples of its scale, from -127 to 127 times it


def column_codes(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, scales) of a float32 matrix: ``scales[j]`` = the largest |value| of column j / 127, ``codes`` the
    values in those units rounded to int8. ``codes * scales`` (float32) is ``quantized(coef)``."""
    coef = np.asarray(coef, dtype=np.float32)
    scales = (np.abs(coef).max(axis=0) / np.float32(LEVELS)).astype(np.float32)
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(coef / scales), -LEVELS, LEVELS).astype(np.int8)
    return codes, scales


def decoded(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """``codes`` times their column's scale, in float32: the one way 8-bit coefficients become numbers (fitting
    and every served form compute exactly this, so their suggestions agree to the last bit)."""
    return codes.astype(np.float32) * scales


def quantized(coef: np.ndarray, rounds: int = 8) -> np.ndarray:
    """``coef`` with every column on 255 levels (``column_codes``): a quarter of float32's bytes, and columns that
    differ only by a factor (a word of one registry document) become one pattern. Repeated until the result
    encodes to itself, so a served form can store its codes and give back exactly these numbers."""
    out = np.asarray(coef, dtype=np.float32)
    for _ in range(rounds):
        again = decoded(*column_codes(out))
        if np.array_equal(again.view(np.uint32), out.view(np.uint32)):
            break
        out = again
    return out


class CodedCoef(ColumnCoef):
    """A ``ColumnCoef`` of 8-bit values: the kept columns' codes as distinct patterns (``patterns``, patterns x
    classes, int8), which pattern each kept column is (``pattern_of``) and its scale (``scales``). A region's
    topic model adapted from its registry alone keeps about a fifth of its columns' patterns distinct: a tenth
    of the float32 bytes, memory-mapped like them."""

    def __init__(self, index, patterns, pattern_of, scales, shape):
        super().__init__(index, patterns, shape)
        self.pattern_of, self.scales, self.dtype = pattern_of, scales, np.dtype(np.float32)

    @classmethod
    def coded(cls, coef: np.ndarray) -> CodedCoef | None:
        """``coef`` as codes, or None when that would not give back exactly ``coef`` (a matrix ``quantized`` did
        not make, e.g. a model fitted before 8-bit topics)."""
        coef = np.asarray(coef, dtype=np.float32)
        keep = kept_columns(coef)
        codes, scales = column_codes(coef[:, keep])
        if not np.array_equal(decoded(codes, scales).view(np.uint32), coef[:, keep].view(np.uint32)):
            return None
        patterns, pattern_of = np.unique(codes.T, axis=0, return_inverse=True)
        small = np.uint16 if len(patterns) <= np.iinfo(np.uint16).max else np.int32
        return cls(
            keep.astype(np.int32),
            np.ascontiguousarray(patterns),
            pattern_of.reshape(-1).astype(small),
            scales,
            coef.shape,
        )

    def values(self, kept) -> np.ndarray:
        return decoded(self.used[self.pattern_of[kept]], self.scales[kept][:, None])
