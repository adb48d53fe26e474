"""Feature extraction: words (stemmed), character n-grams (typos, glued words) and place mentions."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from .preprocess import ComplaintPreprocessor
from .tokens import cleaned

WORDS = "words"


def clean_all(texts) -> list[str]:
    """Cleaned (masked, lower-cased) texts for the character n-gram view."""
    return [cleaned("" if t is None else str(t)) for t in texts]


class PlaceMentionFeatures(TransformerMixin, BaseEstimator):
    """Two columns: does the text name a kecamatan, does it name a desa/kelurahan of the region.

    Admins send place-bound complaints to the kecamatan office; whether a place is named at
    all is a signal the topic words cannot carry.
    """

    def __init__(self, place_index=None, scale: float = 1.0):
        self.place_index = place_index
        self.scale = scale

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        index = self.place_index
        return self.from_matches([index.find(text) if index is not None else [] for text in X])

    def from_matches(self, places: list[list]) -> sp.csr_matrix:
        """The two columns from place matches already found (``PlaceIndex.find`` per text)."""
        rows = []
        for matches in places:
            best = matches[0].score if matches else 0.0
            rows.append((self.scale * (best >= 2.0), self.scale * (0 < best < 2.0)))
        return sp.csr_matrix(np.asarray(rows, dtype=float).reshape(-1, 2))

    def get_feature_names_out(self, input_features=None):
        return np.array(["place__kecamatan_named", "place__desa_named"], dtype=object)


def build_features(
    place_index=None, char_ngrams: bool = True, place_scale: float = 1.0, n_jobs: int | None = 1, char_max_features: int = 20000
) -> FeatureUnion:
    """The feature union used by the routing classifier (word view first: reasons read it)."""
    parts = [
        (
            WORDS,
            Pipeline(
                [
                    ("preprocess", ComplaintPreprocessor(n_jobs=n_jobs)),
                    (
                        "tfidf",
                        TfidfVectorizer(
                            token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True, min_df=1
                        ),
                    ),
                ]
            ),
        )
    ]
    if char_ngrams:
        parts.append(
            (
                "chars",
                Pipeline(
                    [
                        ("clean", FunctionTransformer(clean_all)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=char_max_features
                            ),
                        ),
                    ]
                ),
            )
        )
    parts.append(("places", PlaceMentionFeatures(place_index, place_scale)))
    return FeatureUnion(parts)
