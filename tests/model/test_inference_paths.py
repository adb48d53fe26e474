"""The fast prediction paths give what the plain ones give.

Serving speed comes from computing things once and from skipping scikit-learn's per-call
overhead (``routing_model.model.predict.vectorize``), from scanning only where a name can start
(``lookup.prefixes``), and from preprocessing per distinct token. Each is compared here with
the straightforward computation it replaces, on the shared data.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import KAI_CSV, LAPOR_CSV
from sklearn.feature_extraction.text import TfidfVectorizer

from routing_model.model.fit.classifier import AgencyClassifier
from routing_model.model.fit.features import count_texts, feature_rows, plain_views, read_texts
from routing_model.model.predict.predictor import MentionIndex, TextView, build_place_index
from routing_model.model.predict.vectorize import TermView, char_wb_grams, linear_scores, term_counts, weigh_counts
from routing_model.text.cleaning import MASK_TOKENS
from routing_model.text.normaliser import normalised_tokens
from routing_model.text.stemming import stem_all
from routing_model.text.tokens import cleaned_tokens


@pytest.fixture(scope="module")
def shared_texts(shared_data) -> list[str]:
    texts = pd.read_csv(LAPOR_CSV, dtype=str, keep_default_na=False)["text"].tolist()
    texts += pd.read_csv(KAI_CSV, dtype=str, keep_default_na=False)["text"].tolist()[:2000]
    return texts


def _views(model):
    return dict(model.classifier_.features_.transformer_list)


def _plain(model, name: str):
    """The plain view ``name`` that prediction reads (built from the fitted union)."""
    return next(v for v in model.classifier_.views_ if getattr(v, "name", None) == name)


def _assert_same_matrix(fast, slow, atol: float = 1e-12):
    fast, slow = fast.tocsr(), slow.tocsr()
    fast.sort_indices()
    slow.sort_indices()
    assert fast.shape == slow.shape
    assert np.array_equal(fast.indptr, slow.indptr) and np.array_equal(fast.indices, slow.indices)
    assert np.allclose(fast.data, slow.data, rtol=0, atol=atol)


@pytest.mark.parametrize("view", ["words", "chars"])
def test_fast_tfidf_equals_sklearn_transform_on_shared_texts(demo_model, shared_texts, view):
    plain, sklearn = _plain(demo_model, view), _views(demo_model)[view]
    _assert_same_matrix(plain.transform(shared_texts), sklearn.transform(shared_texts))


def test_fast_tfidf_handles_empty_and_unseen_documents(demo_model):
    tfidf = _views(demo_model)["chars"].named_steps["tfidf"]
    docs = ["", "   ", "zzzzqqqq", "jalan rusak"]
    _assert_same_matrix(TermView.of(tfidf.vectorizer_).transform(docs), tfidf.transform(docs))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ngram_range": (1, 3)},
        {"token_pattern": r"\S+", "lowercase": False},
        {"sublinear_tf": True},
        {"analyzer": "char_wb", "ngram_range": (2, 5)},
        {"norm": None},
        {"use_idf": False},
    ],
)
def test_term_view_equals_sklearn_for_every_handled_configuration(shared_texts, params):
    docs = shared_texts[:400]
    tfidf = TfidfVectorizer(**params).fit(docs[:300])
    _assert_same_matrix(TermView.of(tfidf).transform(docs), tfidf.transform(docs))


@pytest.mark.parametrize(
    "params",
    [
        {"norm": "l1"},
        {"binary": True},
        {"analyzer": "char"},
        {"token_pattern": r"(\w)\w+"},
        {"stop_words": ["yang"]},
        {"dtype": np.float32},
    ],
)
def test_configurations_not_handled_are_refused(params):
    tfidf = TfidfVectorizer(**params).fit(["jalan rusak parah", "lampu jalan mati", "jalan jalan"])
    with pytest.raises(ValueError, match="TF-IDF view needs"):
        TermView.of(tfidf)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="abcxyz-", min_size=1, max_size=9), min_size=1, max_size=6),
    st.integers(1, 3),
    st.integers(0, 4),
)
def test_char_wb_grams_match_sklearn_analyzer(words, min_n, extra):
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(min_n, min_n + extra)).build_analyzer()
    expected = sorted(analyzer(" ".join(words)))
    assert sorted(g for w in words for g in char_wb_grams(w, min_n, min_n + extra)) == expected


def test_linear_scores_equal_decision_function(demo_model, shared_texts):
    clf = demo_model.classifier_
    X = sp.csr_matrix(clf.features_.transform(shared_texts[:300]))
    assert np.allclose(linear_scores(clf.topic_model_, X), clf.topic_model_.decision_function(X), atol=1e-10)


def test_suggest_reasons_equal_reasons_read_afresh(demo_model, shared_texts):
    """suggest() hands each text's evidence to reasons(); reading the text again must agree."""
    texts = [t for t in shared_texts[:150] if len(t.split()) >= 5]
    clf = demo_model.classifier_
    for text, s in zip(texts, demo_model.suggest(texts, k=3)):
        assert s.reasons == tuple(clf.reasons(text, s.top, 5)), text[:80]


def test_preprocessor_per_token_path_equals_per_text_path(demo_model, shared_texts):
    pre = _views(demo_model)["words"].named_steps["preprocess"]
    distinct = list(dict.fromkeys(shared_texts))
    expected = []
    for text in distinct:
        words = normalised_tokens(text, pre.normalisation_, pre.stopwords_)
        stems = stem_all(w for w in words if w not in MASK_TOKENS)  # placeholders are never stemmed
        expected.append(" ".join(stems.get(w, w) for w in words))
    assert pre.transform(distinct) == expected


def _spans_plain(index: MentionIndex, text: str) -> list[tuple[str, str]]:
    """The scan before prefixes: every start, every width, longest first."""
    tokens = cleaned_tokens(text)
    out = []
    for i in range(len(tokens)):
        for width in range(min(index.max_words, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + width])
            if phrase in index.phrases:
                out.append((phrase, index.phrases[phrase]))
                break
    return out


def test_mention_scan_equals_plain_scan(demo_model, shared_texts):
    index = demo_model.classifier_.mentions_
    extra = ["Kepada Dinas Pekerjaan Umum dan Tata Ruang, juga dinas sosial dan DISDUKCAPIL", "dinas dinas dinas"]
    found = 0
    for text in shared_texts + extra:
        spans = index.spans(text)
        assert spans == _spans_plain(index, text), text[:80]
        found += bool(spans)
    assert found > 50, "the shared texts name agencies often; the check must not pass on empty scans"


def _places_plain(index, text: str) -> dict[str, float]:
    """Place scores by trying every start and every width, as before prefixes."""
    from routing_model.places import matching as P

    tokens = list(cleaned_tokens(text))
    scores: dict[str, float] = {}
    for i in range(len(tokens)):
        before = tokens[i - 1] if i else ""
        for width in range(1, min(P.MAX_NAME_WORDS, len(tokens) - i) + 1):
            key = "".join(tokens[i : i + width])
            if key in index.common_words and before not in P.KEC_MARKERS | P.DESA_MARKERS:
                continue
            kecamatan = index.kecamatan_names.get(key)
            if kecamatan is not None and before not in P.DESA_MARKERS:
                scores[kecamatan] = scores.get(kecamatan, 0) + (
                    P.W_KEC_MARKED if before in P.KEC_MARKERS else P.W_KEC_BARE
                )
            shared_by = index.desa_names.get(key)
            if shared_by and before not in P.KEC_MARKERS:
                marked = before in P.DESA_MARKERS
                for kec, _ in shared_by:
                    scores[kec] = scores.get(kec, 0) + (P.W_DESA_MARKED if marked else P.W_DESA_BARE) / len(shared_by)
    return scores


def test_place_scan_equals_plain_scan(demo_model, shared_texts):
    index = demo_model.classifier_.place_index_
    named = 0
    for text in shared_texts + ["Desa Jelekong, Kec. Baleendah dan kp cikoneng serta Solokan Jeruk"]:
        found = {m.kecamatan: m.score for m in index.find(text)}
        assert found == pytest.approx(_places_plain(index, text)), text[:80]
        named += bool(found)
    assert named > 50


@pytest.mark.parametrize("attr", ["mentions_", "place_index_"])
def test_lookup_tables_are_not_saved_but_rebuilt_on_load(demo_model, attr):
    index = getattr(demo_model.classifier_, attr)
    assert "_prefixes" not in index.__getstate__()
    copy = pickle.loads(pickle.dumps(index))
    assert copy._prefixes == index._prefixes and len(copy._prefixes) > 10


def test_classifier_cache_is_not_saved(demo_model):
    clf = demo_model.classifier_
    demo_model.suggest(["Jalan rusak parah di Desa Jelekong, mohon diperbaiki"])
    assert "_mandate_lookup" in vars(clf), "a loaded model has its mandate lookup rebuilt"
    state = clf.__getstate__()
    assert "_mandate_lookup" not in state and "mandate_matrix_" in state
    copy = pickle.loads(pickle.dumps(clf))
    words = _plain(demo_model, "words").transform(["lampu jalan mati", "ktp belum jadi"])
    assert np.allclose(copy.mandate_similarity(words), clf.mandate_similarity(words))


def test_word_feature_memo_follows_a_refit():
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))
    first = ["jalan rusak parah", "lampu jalan mati"]
    tfidf.fit(first)
    _assert_same_matrix(weigh_counts(term_counts(tfidf, first), tfidf), tfidf.transform(first))
    second = ["ktp belum jadi", "antrean disdukcapil panjang", "jalan"]
    tfidf.fit(second)  # same object, new vocabulary: the memo must not answer with old indices
    _assert_same_matrix(weigh_counts(term_counts(tfidf, second + first), tfidf), tfidf.transform(second + first))


def _predicted_rows(views, place_index, texts) -> sp.csr_matrix:
    """Feature rows as prediction computes them, text by text from the plain views."""
    return sp.hstack(
        [
            v.transform(texts) if isinstance(v, TextView) else v.columns([place_index.find(t) for t in texts])
            for v in views
        ],
        format="csr",
    )


def test_fit_adapt_and_predict_compute_the_same_features(registry, shared_texts):
    """One feature path: the rows a fit learns from (``read_texts`` + ``feature_rows``) and those ``adapt_from``
    learns from (``count_texts`` + ``feature_rows``) are the rows prediction computes (float32 vs float64)."""
    texts = shared_texts[:400]
    clf = AgencyClassifier(registry)
    features = clf._build_features(0, build_place_index(registry))
    fitted = feature_rows(features, read_texts(features, texts, 0), fit=True)
    views = plain_views(features)
    predicted = _predicted_rows(views, build_place_index(registry), texts)
    _assert_same_matrix(fitted, predicted, atol=1e-6)
    adapted = feature_rows(features, count_texts(views, build_place_index(registry), texts, 0), fit=False)
    _assert_same_matrix(adapted, predicted, atol=1e-6)
