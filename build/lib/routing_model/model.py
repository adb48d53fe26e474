"""RoutingModel: the object every part of Disposisi uses to suggest agencies.

It wraps the ``AgencyClassifier`` with what a dispatcher needs beyond a label: probabilities
that mean what they say (temperature scaling fitted on out-of-fold predictions), a
``needs_review`` flag whose threshold was chosen on held-out rows to reach a target precision,
and the words that drove the top suggestion.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.model_selection import KFold

from .classifier import AgencyClassifier
from .metrics import coverage_at_threshold, expected_calibration_error, review_threshold
from .registry import Registry
from .stemming import sastrawi_words
from .tokens import cleaned_tokens
from .errors import DisposisiError

MAX_TEXT_CHARS = 20_000
MIN_ROUTABLE_WORDS = 2


class ComplaintTextError(DisposisiError, ValueError):
    """A complaint text that cannot be routed at all (empty, too long, not text)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def validate_text(text) -> str:
    """The text as a string, or ComplaintTextError with a stable ``code``."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        raise ComplaintTextError("empty_text", "complaint text is missing")
    if not isinstance(text, str):
        raise ComplaintTextError("not_text", f"complaint text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ComplaintTextError("empty_text", "complaint text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ComplaintTextError(
            "text_too_long", f"complaint text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        )
    return text


def routable_words(text: str) -> int:
    """How many alphabetic words of at least two letters the text has."""
    return sum(1 for t in cleaned_tokens(text) if len(t) >= 2)


def indonesian_share(text: str) -> float:
    """Share of words found in Sastrawi's Indonesian dictionary (a cheap language check)."""
    words = [t for t in cleaned_tokens(text) if len(t) >= 3]
    if not words:
        return 0.0
    dictionary = sastrawi_words()
    return sum(w in dictionary for w in words) / len(words)


@dataclass(frozen=True)
class Suggestion:
    """Top-k agencies for one complaint; ``needs_review`` means "a human must decide"."""

    agencies: tuple[tuple[str, float], ...]
    needs_review: bool
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def top(self) -> str:
        return self.agencies[0][0]

    @property
    def confidence(self) -> float:
        return self.agencies[0][1]

    def to_dict(self) -> dict:
        return {
            "suggestions": [{"agency": a, "confidence": round(float(p), 4)} for a, p in self.agencies],
            "needs_review": bool(self.needs_review),
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
        }


def _fold_scores(folds, labels: list[str], temperature: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per held-out row: probability of the true agency, top-1 confidence, top-1 correct."""
    true_p, confidence, hits = [], [], []
    for test_idx, logits, context, clf in folds:
        proba = clf.proba_from_logits(logits, context, temperature)
        col = {c: j for j, c in enumerate(clf.classes_)}
        for row, i in zip(proba, test_idx):
            true_p.append(row[col[labels[i]]] if labels[i] in col else 0.0)
            confidence.append(row.max())
            hits.append(clf.classes_[row.argmax()] == labels[i])
    return np.array(true_p), np.array(confidence), np.array(hits, dtype=float)


class RoutingModel:
    """fit / predict_proba / suggest / save / load for agency routing."""

    def __init__(
        self,
        registry: Registry | None = None,
        classifier_params: dict | None = None,
        target_precision: float = 0.90,
        calibration_folds: int = 5,
        random_state: int = 0,
    ):
        self.registry = registry
        self.classifier_params = dict(classifier_params or {})
        self.target_precision = target_precision
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    # -- training -------------------------------------------------------------------------
    def _new_classifier(self) -> AgencyClassifier:
        return AgencyClassifier(registry=self.registry, **self.classifier_params)

    def out_of_fold(self, texts: list[str], labels: list[str], sample_weight=None):
        """Out-of-fold logits for every training row: the held-out data calibration is fitted on."""
        logits_rows = []
        folds = KFold(n_splits=min(self.calibration_folds, len(texts)), shuffle=True, random_state=self.random_state)
        for train_idx, test_idx in folds.split(texts):
            clf = self._new_classifier().fit(
                [texts[i] for i in train_idx],
                [labels[i] for i in train_idx],
                None if sample_weight is None else np.asarray(sample_weight)[train_idx],
            )
            held_out = [texts[i] for i in test_idx]
            logits_rows.append((test_idx, *clf.analyse(held_out), clf))
        return logits_rows

    def fit(self, texts, labels, sample_weight=None) -> "RoutingModel":
        texts = [str(t) for t in texts]
        labels = [str(label) for label in labels]
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(texts) < 2 * self.calibration_folds:
            raise ValueError(f"need at least {2 * self.calibration_folds} labeled complaints to train, got {len(texts)}")

        # 1. held-out predictions -> temperature (calibration) and review threshold
        folds = self.out_of_fold(texts, labels, sample_weight)

        def nll(log_t: float) -> float:
            true_p, _, _ = _fold_scores(folds, labels, float(np.exp(log_t)))
            return float(-np.mean(np.log(np.clip(true_p, 1e-6, None))))

        best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-2})
        self.temperature_ = float(np.exp(best.x))
        _, confidence, hits = _fold_scores(folds, labels, self.temperature_)
        self.review_threshold_ = review_threshold(confidence, hits, self.target_precision)
        self.calibration_ = {
            "method": "temperature scaling on out-of-fold logits",
            "folds": len(folds),
            "temperature": self.temperature_,
            "oof_top1": float(hits.mean()),
            "oof_ece": expected_calibration_error(confidence, hits),
            "oof_nll": float(best.fun),
            "target_precision": self.target_precision,
            "review": coverage_at_threshold(confidence, hits, self.review_threshold_),
        }

        # 2. final model on everything
        params = dict(self.classifier_params, temperature=self.temperature_)
        self.classifier_ = AgencyClassifier(registry=self.registry, **params).fit(texts, labels, sample_weight)
        self.classes_ = self.classifier_.classes_
        self.label_counts_ = {label: labels.count(label) for label in sorted(set(labels))}
        return self

    # -- prediction -----------------------------------------------------------------------
    def predict_proba(self, texts) -> np.ndarray:
        return self.classifier_.predict_proba([validate_text(t) for t in texts])

    def suggest(self, texts, k: int = 3, n_reasons: int = 5) -> list[Suggestion]:
        """Top-k agencies per text. Raises ComplaintTextError for an unroutable text."""
        texts = [validate_text(t) for t in texts]
        if not texts:
            return []
        k = max(1, min(int(k), len(self.classes_)))
        logits, context, evidence = self.classifier_.analyse_with_evidence(texts)
        proba = self.classifier_.proba_from_logits(logits, context)
        out = []
        for i, (text, row) in enumerate(zip(texts, proba)):
            top = np.argsort(-row)[:k]
            agencies = tuple((str(self.classes_[j]), float(row[j])) for j in top)
            warnings = []
            if routable_words(text) < MIN_ROUTABLE_WORDS:
                warnings.append("too_few_words")
            elif indonesian_share(text) < 0.25:
                warnings.append("not_indonesian")
            needs_review = bool(warnings) or agencies[0][1] < self.review_threshold_
            reasons = tuple(self.classifier_.reasons(text, agencies[0][0], n_reasons, evidence.of(i))) if n_reasons else ()
            out.append(Suggestion(agencies, needs_review, reasons, tuple(warnings)))
        return out

    # -- persistence ----------------------------------------------------------------------
    def save(self, out_dir, card_extra: dict | None = None) -> dict:
        """Write the model directory (see ``persistence``); returns the card."""
        from .persistence import save_model

        self.card_ = None  # never nest an old card inside the new file
        self.card_ = save_model(self, out_dir, card_extra)
        return self.card_

    @classmethod
    def load(cls, model_dir) -> "RoutingModel":
        """Load a verified model directory; raises ``ModelLoadError`` with the reason."""
        from .persistence import load_model

        return load_model(model_dir)[0]

    @property
    def version(self) -> str:
        card = getattr(self, "card_", None) or {}
        return str(card.get("version", "unsaved"))
