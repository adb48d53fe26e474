"""Near-duplicate complaints: the same citizen posting twice, copy-paste campaigns.

Method: TF-IDF over character 4-grams (within word boundaries) of the cleaned text, cosine
similarity, restricted to pairs whose received dates are at most ``WINDOW_DAYS`` apart. Character
n-grams survive the typos, glued words and re-spacing of reposted complaints; one sparse matrix
product per batch keeps it fast (580 complaints against each other: ~0.1 s). The threshold was
chosen by reading the pairs on the shared LAPOR! data (docs/desk.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from routing_model.text import clean

WINDOW_DAYS = 60
THRESHOLD = 0.75
MAX_LINKS = 5  # earlier complaints kept per complaint (the most similar)


@dataclass(frozen=True)
class Doc:
    id: str
    received: date
    text: str


def find_duplicates(new: list[Doc], earlier: list[Doc], threshold: float = THRESHOLD,
                    window_days: int = WINDOW_DAYS) -> dict[str, list[tuple[str, float]]]:
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
    try:
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), min_df=1, sublinear_tf=True, dtype=np.float32).fit_transform(texts)
    except ValueError:  # no n-grams at all (texts shorter than 4 characters)
        return {}
    days = np.array([d.received.toordinal() for d in docs])
    keys = [(d.received, d.id) for d in docs]
    out: dict[str, list[tuple[str, float]]] = {}
    step = 2000
    for lo in range(0, len(new), step):
        block = matrix[lo:lo + step]
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
