"""Near-duplicate complaints: the same citizen posting twice, copy-paste campaigns.

Method: TF-IDF over character 4-grams (within word boundaries) of the cleaned text, cosine
similarity, restricted to pairs whose received dates are at most ``WINDOW_DAYS`` apart. Character
n-grams survive the typos, glued words and re-spacing of reposted complaints; one sparse matrix
product per batch keeps it fast (580 complaints against each other: ~0.1 s). The threshold was
chosen by reading the pairs on the shared LAPOR! data (docs/desk.md).

The TF-IDF is computed here with numpy and scipy rather than scikit-learn's ``TfidfVectorizer``
(the same numbers; tests/desk/test_desk_duplicates.py compares them): a serving worker should not
import scikit-learn (~150 MB each) for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import scipy.sparse as sp

from routing_model.model.predict.vectorize import char_wb_grams
from routing_model.text.cleaning import clean

WINDOW_DAYS = 60
THRESHOLD = 0.75
MAX_LINKS = 5  # earlier complaints kept per complaint (the most similar)
NGRAM = 4


@dataclass(frozen=True)
class Doc:
    id: str
    received: date
    text: str


def tfidf_rows(texts: list[str]) -> sp.csr_matrix:
    """One unit row per text: ``TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4),
    sublinear_tf=True, dtype=np.float32).fit_transform(texts)`` up to the column order.

    Vocabulary: every ``char_wb`` 4-gram of the lowercased, whitespace-split texts; weights
    (1 + ln tf) * (ln((1 + n) / (1 + df)) + 1). A text without any n-gram gets an empty row.
    """
    vocabulary: dict[str, int] = {}
    columns: dict[str, list[int]] = {}  # word -> its n-grams' columns (complaints repeat their words)
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        for word in text.lower().split():
            cols = columns.get(word)
            if cols is None:
                cols = columns[word] = [
                    vocabulary.setdefault(g, len(vocabulary)) for g in char_wb_grams(word, NGRAM, NGRAM)
                ]
            indices.extend(cols)
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(texts), len(vocabulary)))
    matrix.sum_duplicates()  # occurrences -> counts
    df = np.bincount(matrix.indices, minlength=len(vocabulary))
    idf = np.log((1 + len(texts)) / (1 + df)) + 1
    matrix.data = (1 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1).A1)
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix.astype(np.float32)


def find_duplicates(
    new: list[Doc], earlier: list[Doc], threshold: float = THRESHOLD, window_days: int = WINDOW_DAYS
) -> dict[str, list[tuple[str, float]]]:
    """For each new complaint, the earlier ones (stored, or earlier in ``new``) it nearly repeats.

    "Earlier" means received before it (ties broken by id) and at most ``window_days`` before.
    Returns id -> [(earlier id, similarity)], most similar first; complaints without text match nothing.
    """
    new = [d for d in new if d.text and d.text.strip()]
    pool = [d for d in earlier if d.text and d.text.strip()]
    if not new:
        return {}
    docs = new + pool
    texts = [clean(d.text) for d in docs]
    matrix = tfidf_rows(texts)
    if matrix.nnz == 0:  # no n-grams at all (nothing left after cleaning)
        return {}
    days = np.array([d.received.toordinal() for d in docs])
    keys = [(d.received, d.id) for d in docs]
    out: dict[str, list[tuple[str, float]]] = {}
    step = 2000
    for lo in range(0, len(new), step):
        block = matrix[lo : min(lo + step, len(new))]  # rows of new complaints only: the pool is looked in
        sims = (block @ matrix.T).tocsr()
        for r in range(block.shape[0]):
            i = lo + r
            row = sims.getrow(r)
            found = []
            for j, s in zip(row.indices, row.data):
                if j == i or s < threshold or docs[j].id == docs[i].id:
                    continue
                if not (0 <= days[i] - days[j] <= window_days) or keys[j] >= keys[i]:
                    continue
                found.append((docs[j].id, round(float(min(s, 1.0)), 3)))
            if found:
                found.sort(key=lambda t: (-t[1], t[0]))
                out[docs[i].id] = found[:MAX_LINKS]
    return out
