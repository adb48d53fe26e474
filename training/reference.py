"""The plain reference model every report is compared with (fixed by the project, not tuned)."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC


def reference_pipeline() -> Pipeline:
    """TF-IDF word 1-2-grams + char_wb 2-5-grams, LinearSVC(balanced, C=0.5), no preprocessing."""
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("words", TfidfVectorizer(ngram_range=(1, 2))),
                        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))),
                    ]
                ),
            ),
            ("svm", LinearSVC(class_weight="balanced", C=0.5)),
        ]
    )


def reference_scores(model: Pipeline, texts) -> np.ndarray:
    """Class scores for ranking; softmax of SVM margins stands in for probabilities (for ECE only)."""
    margins = model.decision_function(list(texts))
    if margins.ndim == 1:  # two classes
        margins = np.column_stack([-margins, margins])
    return softmax(margins, axis=1)
