"""Training at scale: each text is read once, and the classes are fitted in threads.

The held-out fit and the final fit share one reading. A reading (``AgencyClassifier.read``) keeps the term counts of every text; a fit on a subset
of its rows must still obey the vocabulary rule for the rows it learns from (a term only one of
its complaints uses stays out), and must give the model a fit on those texts alone gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_helpers import DEMO_CSV, vocabularies
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from routing_model import RoutingModel
from routing_model.model.fit import features
from routing_model.model.fit.classifier import AgencyClassifier
from routing_model.model.fit.features import PrunedTfidf
from routing_model.model.predict.vectorize import term_counts

MARKER = "zqxwarung"  # a made-up word: in no registry or function document
UNCAPPED = {"char_max_features": 10**7, "word_max_features": None}  # vocabularies then depend on the rule only


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return (
        pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
        .sort_values("date", kind="stable")
        .reset_index(drop=True)
    )


def _terms(model) -> set[str]:
    return {term for vocabulary in vocabularies(model).values() for term in vocabulary}


@pytest.mark.parametrize(
    "analyzer, params",
    [
        ("char_wb", {"ngram_range": (2, 5)}),
        ("word", {"ngram_range": (1, 2), "token_pattern": r"\S+", "lowercase": False}),
    ],
)
def test_term_counts_equal_countvectorizer_across_chunks(demo_rows, analyzer, params):
    docs = demo_rows["text"].tolist()[:50] + ["", "  ", MARKER]
    vocabulary = CountVectorizer(analyzer=analyzer, min_df=2, **params).fit(docs).vocabulary_
    vectorizer = TfidfVectorizer(analyzer=analyzer, vocabulary=vocabulary, **params)
    vectorizer._validate_vocabulary()
    fast = term_counts(vectorizer, docs, dtype=np.float32, chunk=7)
    slow = CountVectorizer(analyzer=analyzer, vocabulary=vocabulary, **params).transform(docs)
    assert fast.dtype == np.float32 and fast.shape == slow.shape
    assert (fast != slow).nnz == 0


def test_sampled_vocabulary_counts_every_text(demo_rows):
    texts = demo_rows["text"].tolist()
    tfidf = PrunedTfidf("char_wb", (2, 5), min_df=2, max_vocab_docs=60)
    view = tfidf.count(texts)  # vocabulary from 60 of the 240 texts, counts over all of them
    expected = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), vocabulary=list(view.terms)).transform(texts)
    assert (view.counts != expected).nnz == 0


@pytest.mark.slow
@pytest.mark.parametrize("rows_per_slice", [8192, 7])
def test_a_subset_of_a_reading_fits_the_model_those_texts_fit_alone(registry, demo_rows, monkeypatch, rows_per_slice):
    monkeypatch.setattr(features, "_ROWS_PER_SLICE", rows_per_slice)  # 7: big matrices are walked in many slices
    texts, labels = demo_rows["text"].tolist(), demo_rows["agency"].tolist()
    older = np.random.default_rng(0).permutation(240)[:180]  # scattered rows, not in order
    read = AgencyClassifier(registry=registry, **UNCAPPED).read(texts)
    shared = AgencyClassifier(registry=registry, **UNCAPPED).fit(read.rows(older), [labels[i] for i in older])
    alone = AgencyClassifier(registry=registry, **UNCAPPED).fit([texts[i] for i in older], [labels[i] for i in older])
    assert vocabularies(shared) == vocabularies(alone)
    for view in ("words", "chars"):
        a, b = (dict(m.features_.transformer_list)[view].named_steps["tfidf"].vectorizer_.idf_ for m in (shared, alone))
        assert np.array_equal(a, b)
    assert np.array_equal(shared.topic_model_.coef_, alone.topic_model_.coef_)
    assert np.array_equal(shared.function_model_.coef_, alone.function_model_.coef_)


@pytest.mark.slow
def test_held_out_and_final_fits_keep_the_vocabulary_rule(registry, demo_rows, monkeypatch):
    """One word in one older complaint and one held-out complaint: the final model (two
    complaints) may keep it, the held-out models (one of its complaints each) must not; a word of
    one complaint only is in neither, nor in the saved file."""
    frame = demo_rows.copy()
    frame.loc[3, "text"] += f" {MARKER}"  # older rows: the held-out model learns from this one
    frame.loc[len(frame) - 2, "text"] += f" {MARKER}"  # the latest rows: held out
    frame.loc[5, "text"] += " qzvlonely"
    fitted = []
    original = AgencyClassifier.fit
    monkeypatch.setattr(
        AgencyClassifier, "fit", lambda self, *a, **k: fitted.append(original(self, *a, **k)) or fitted[-1]
    )
    model = RoutingModel(registry, {}).fit(frame["text"].tolist(), frame["agency"].tolist(), frame["date"].tolist())
    *held_out, final = fitted  # one model per rolling held-out block, then the final one
    assert held_out and final is model.classifier_
    assert MARKER in vocabularies(final)["words"]
    for (
        clf
    ) in held_out:  # each learns from rows older than its block: the marker's second complaint is never among them
        assert not any(MARKER in term or "zqx" in term for term in _terms(clf))
        assert not any("qzv" in term for term in _terms(clf))
    assert not any("qzv" in term for term in _terms(final))


def test_a_reading_is_refused_by_a_classifier_that_reads_otherwise(registry, demo_rows):
    texts, labels = demo_rows["text"].tolist()[:60], demo_rows["agency"].tolist()[:60]
    read = AgencyClassifier(registry=registry).read(texts)
    with pytest.raises(ValueError, match="other feature settings"):
        AgencyClassifier(registry=registry, min_df=3).fit(read, labels)


@pytest.mark.slow
def test_threads_fit_the_same_coefficients(registry, demo_rows):
    """The one-vs-rest fits run in threads (``n_jobs``) with seeds drawn before: same model."""
    texts, labels = demo_rows["text"].tolist(), demo_rows["agency"].tolist()
    read = AgencyClassifier(registry=registry).read(texts)
    one, two = (AgencyClassifier(registry=registry, n_jobs=jobs).fit(read, labels) for jobs in (1, 2))
    assert np.array_equal(one.topic_model_.coef_, two.topic_model_.coef_)
    assert np.array_equal(one.function_model_.coef_, two.function_model_.coef_)
