"""RoutingModel: the object every part of Disposisi uses to suggest agencies.

It wraps the ``AgencyClassifier`` with what a dispatcher needs beyond a label:
- probabilities that mean what they say, and a ``needs_review`` flag whose thresholds were
  chosen on the **latest** labeled period, held out (the next month looks more like last
  month than like a random fold of the past), per agency where that period has enough rows;
- the words that drove the top suggestion, and the region the complaint belongs to when it
  names another one (``outside_region``);
- honesty on small data: below ``min_labels`` labeled complaints nothing is auto-suggested,
  and a threshold is never taken from rows the model trained on.
"""

from __future__ import annotations

import numpy as np

from routing_model.errors import DisposisiError
from routing_model.model.fit.holdout import (
    HOLDOUT_BLOCKS,
    HOLDOUT_SHARE,
    LARGE_DATA_ROWS,
    LARGE_HOLDOUT_SHARE,
    latest_blocks,
)
from routing_model.model.live_guard import is_withdrawn
from routing_model.model.metrics import coverage_at_threshold, expected_calibration_error, review_thresholds
from routing_model.model.predict.learned import MODEL_STATE, SERVED_KINDS, field_names
from routing_model.model.predict.predictor import AgencyPredictor
from routing_model.model.predict.suggestion import Suggestion
from routing_model.registry.agencies import Registry
from routing_model.text.language import not_indonesian
from routing_model.text.validation import MIN_ROUTABLE_WORDS, routable_words, validate_text

MIN_LABELS = 40  # below this a model leans on functions and the registry and auto-suggests nothing
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(8.0), 25))
FUNCTION_MIX = 0.5  # weight of the function view with enough local labels (how it was chosen: docs/quality.md)


class RoutingModel:
    """fit / adapt / predict_proba / suggest for agency routing; ``persistence`` saves and loads it.

    Learned state: ``learned.MODEL_STATE``."""

    def __init__(
        self,
        registry: Registry | None = None,
        classifier_params: dict | None = None,
        target_precision: float = 0.90,
        holdout_share: float = HOLDOUT_SHARE,
        holdout_blocks: int = HOLDOUT_BLOCKS,
        min_labels: int = MIN_LABELS,
        random_state: int = 0,
    ):
        self.registry = registry
        self.classifier_params = dict(classifier_params or {})
        self.target_precision = target_precision
        self.holdout_share = holdout_share
        self.holdout_blocks = holdout_blocks
        self.min_labels = min_labels
        self.random_state = random_state

    # -- training -------------------------------------------------------------------------
    def _new_classifier(self, **extra) -> AgencyPredictor:
        """An unfitted ``AgencyClassifier`` (imported here: a served model predicts without scikit-learn)."""
        from routing_model.model.fit.classifier import AgencyClassifier

        return AgencyClassifier(
            registry=self.registry, random_state=self.random_state, **{**self.classifier_params, **extra}
        )

    def fit(self, texts, labels, dates=None, sample_weight=None, progress=None, function_rows=None) -> RoutingModel:
        """Fit on labeled complaints (possibly none). With enough rows, the latest period is held
        out first to fit the temperature, the function mix and the review thresholds.
        ``function_rows``: other regions' decisions as function-labeled rows (``FunctionLabels``): they teach the
        shared vocabularies and function model, not this registry's topic model; a held-out fit leaves out the rows
        whose text is held out. None: exactly today's fit."""
        texts, labels = [str(t) for t in texts], [str(label) for label in labels]
        if len(texts) != len(labels):
            raise DisposisiError(f"{len(texts)} texts but {len(labels)} labels")
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        step = progress or (lambda *_: None)
        placed = function_rows.placed(texts) if function_rows is not None and len(function_rows) else None
        extra = list(placed.extra_texts) if placed is not None else []
        read = self._new_classifier().read(texts + extra)  # each text analysed once, for both fits
        tail = np.arange(len(texts), len(texts) + len(extra), dtype=np.int64)

        def fit_old(rows_old, rows_new):
            labels_old = [labels[i] for i in rows_old]
            weights_old = None if weights is None else weights[rows_old]
            if placed is None:
                return self._new_classifier().fit(read.rows(rows_old), labels_old, weights_old)
            keep = np.concatenate([np.asarray(rows_old, dtype=np.int64), tail])
            return self._new_classifier().fit(read.rows(keep), labels_old, weights_old, placed.within(keep))

        self._calibrate(texts, labels, dates, weights, fit_old, step)
        self.classifier_ = self._new_classifier(temperature=self.temperature_, function_mix=self.function_mix_).fit(
            read, labels, weights, placed
        )
        step("final model")
        return self._finish(labels)

    def adapt(self, base: RoutingModel, texts=(), labels=(), dates=None, progress=None) -> RoutingModel:
        """A model for this registry's region from a model trained elsewhere: the base's features
        and function model carry over; this region's agencies, places and labels are added."""
        texts, labels = [str(t) for t in texts], [str(label) for label in labels]
        step = progress or (lambda *_: None)
        base_clf = base.classifier_
        self.base_ = {"version": base.version, "region": _region_name(base.registry)}

        def local(rows_old, rows_new):
            return self._new_classifier().adapt_from(
                base_clf, [texts[i] for i in rows_old], [labels[i] for i in rows_old]
            )

        self._calibrate(texts, labels, dates, None, local, step, default_temperature=float(base.temperature_))
        self.classifier_ = self._new_classifier(
            temperature=self.temperature_, function_mix=self.function_mix_
        ).adapt_from(base_clf, texts, labels)
        step("final model")
        return self._finish(labels)

    def _calibrate(self, texts, labels, dates, weights, fit_old, step, default_temperature: float = 1.0) -> None:
        """Temperature, function mix and review thresholds from the latest period, held out."""
        n = len(texts)
        self.small_data_ = n < self.min_labels
        self.temperature_, self.function_mix_ = default_temperature, self._default_mix(n)
        self.review_threshold_, self.review_thresholds_ = 1.0, {}
        self.calibration_ = {
            "method": "none: too few labeled complaints to hold any out",
            "labeled_rows": n,
            "small_data": self.small_data_,
            "temperature": self.temperature_,
            "function_mix": self.function_mix_,
            "target_precision": self.target_precision,
        }
        if n < self.min_labels:
            self.calibration_["review"] = {
                "threshold": 1.0,
                "why": f"fewer than {self.min_labels} labeled complaints: every suggestion is reviewed",
            }
            return
        share, blocks = (self.holdout_share, self.holdout_blocks) if n < LARGE_DATA_ROWS else (LARGE_HOLDOUT_SHARE, 1)
        splits, how = latest_blocks(n, dates, share, blocks, self.random_state)
        held = []  # (classifier, logits, context, labels) per block
        for old, new in splits:
            clf = fit_old(old, new)
            logits, context = clf.analyse([texts[i] for i in new])
            held.append((clf, logits, context, [labels[i] for i in new]))
            step("held-out model", len(splits) + 1)
        # Only the temperature is fitted on the held-out rows: a few dozen rows are enough for
        # one number, not for more (a fitted mix lost to the fixed one: docs/quality.md).
        nll = [_held_out_outcomes(held, t, self.function_mix_)[4] for t in TEMPERATURES]
        best = (min(nll), float(TEMPERATURES[int(np.argmin(nll))]))
        self.temperature_ = best[1]
        confidence, predicted, hits, periods, _ = _held_out_outcomes(held, self.temperature_, self.function_mix_)
        self.review_threshold_, self.review_thresholds_ = review_thresholds(
            confidence, predicted, hits, self.target_precision, blocks=periods
        )
        self.calibration_.update(
            {
                "method": "temperature and review thresholds fitted on the latest labeled rows, held out in rolling blocks",
                "holdout": how,
                "holdout_rows": int(len(hits)),
                "temperature": self.temperature_,
                "function_mix": self.function_mix_,
                "holdout_top1": float(hits.mean()),
                "holdout_ece": expected_calibration_error(confidence, hits),
                "holdout_nll": best[0],
                "review": coverage_at_threshold(confidence, hits, self.review_threshold_)
                | {"per_agency": dict(self.review_thresholds_)},
            }
        )

    def _default_mix(self, n: int) -> float:
        """Weight of the function view: the configured one with enough local labels; more the
        fewer local labels there are (a region with none leans on the functions almost only)."""
        mix = float(self.classifier_params.get("function_mix", FUNCTION_MIX))
        if n >= self.min_labels:
            return mix
        return float(mix + (0.9 - mix) * (1.0 - n / self.min_labels))

    def _finish(self, labels: list[str]) -> RoutingModel:
        self._derive()
        self.label_counts_ = {label: labels.count(label) for label in sorted(set(labels))}
        return self

    # -- prediction -----------------------------------------------------------------------
    def predict_proba(self, texts) -> np.ndarray:
        return self.classifier_.predict_proba([validate_text(t) for t in texts])

    def needs_review(self, proba: np.ndarray, withdrawn: dict[str, dict] | None = None) -> np.ndarray:
        """Per row: the top agency's confidence is below its threshold (the agency's own where
        the held-out period had enough of its suggestions, the global one elsewhere), or the
        live guard withdrew that agency (``live_guard.withdrawn_agencies``)."""
        top = proba.argmax(axis=1)
        per = np.array([self.review_thresholds_.get(str(c), self.review_threshold_) for c in self.classes_])
        pulled = np.array([is_withdrawn(str(c), withdrawn) for c in self.classes_], dtype=bool)
        return (proba[np.arange(len(proba)), top] < per[top]) | pulled[top]

    def suggest(
        self, texts, k: int = 3, n_reasons: int = 5, withdrawn: dict[str, dict] | None = None
    ) -> list[Suggestion]:
        """Top-k agencies per text. Raises ComplaintTextError for an unroutable text.
        ``withdrawn``: the live guard's verdict (agencies whose recent auto-suggestions failed)."""
        from routing_model.places.elsewhere import outside_region

        texts = [validate_text(t) for t in texts]
        if not texts:
            return []
        k = max(1, min(int(k), len(self.classes_)))
        clf = self.classifier_
        logits, context, evidence = clf.analyse_with_evidence(texts)
        proba = clf.proba_from_logits(logits, context)
        review = self.needs_review(proba, withdrawn)
        region = self.registry.region if self.registry is not None else None
        out = []
        for i, (text, row) in enumerate(zip(texts, proba)):
            top = np.argsort(-row)[:k]
            agencies = tuple((str(self.classes_[j]), float(row[j])) for j in top)
            warnings = []
            if routable_words(text) < MIN_ROUTABLE_WORDS:
                warnings.append("too_few_words")
            elif not_indonesian(text):
                warnings.append("not_indonesian")
            elsewhere = outside_region(text, region, clf.place_index_) if region is not None else None
            if elsewhere is not None:
                warnings.append("outside_region")
            if is_withdrawn(agencies[0][0], withdrawn):
                warnings.append("live_precision_low")
            needs_review = bool(warnings) or bool(review[i])
            reasons = tuple(clf.reasons(text, agencies[0][0], n_reasons, evidence.of(i))) if n_reasons else ()
            out.append(
                Suggestion(agencies, needs_review, reasons, tuple(warnings), elsewhere.to_dict() if elsewhere else None)
            )
        return out

    # -- artifact (persistence.save / load / load_served) ----------------------------------
    @classmethod
    def restore(cls, state: dict, **params) -> RoutingModel:
        """A fitted model from its served learned state (``artifact.served``): exactly the served fields of
        ``learned.MODEL_STATE``; the registry is the classifier's, derived fields are rebuilt."""
        expected = field_names(MODEL_STATE, SERVED_KINDS)
        if set(state) != expected:
            raise ValueError(f"learned state {sorted(set(state) ^ expected)} missing or unknown")
        model = cls(registry=state["classifier_"].registry, **params)
        model.__dict__.update(state)
        model._derive()
        return model

    def _derive(self) -> None:
        """The ``DERIVED`` fields of ``MODEL_STATE``."""
        self.classes_ = self.classifier_.classes_

    @property
    def version(self) -> str:
        card = getattr(self, "card_", None) or {}
        return str(card.get("version", "unsaved"))


def _region_name(registry: Registry | None) -> str | None:
    region = registry.region if registry is not None else None
    return region.place if region is not None else None


def _held_out_outcomes(
    held: list, temperature: float, mix: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Pooled over the held-out blocks [(classifier, logits, context, labels)]: top-1 confidence,
    predicted agency, hit, block of each row, and the mean negative log-likelihood."""
    conf, pred, hit, block, nll = [], [], [], [], 0.0
    for b, (clf, logits, context, labels) in enumerate(held):
        proba = clf.proba_from_logits(logits, context, temperature, mix)
        nll += _nll(proba, clf.classes_, labels) * len(labels)
        conf.append(proba.max(axis=1))
        pred.append(clf.classes_[proba.argmax(axis=1)])
        hit.append((pred[-1] == np.asarray(labels, dtype=object)).astype(float))
        block.append(np.full(len(labels), b))
    n = sum(len(h) for h in hit)
    return np.concatenate(conf), np.concatenate(pred), np.concatenate(hit), np.concatenate(block), nll / n


def _nll(proba: np.ndarray, classes, labels: list[str]) -> float:
    col = {c: i for i, c in enumerate(classes)}
    p = np.array([proba[r, col[y]] if y in col else 0.0 for r, y in enumerate(labels)])
    return float(-np.mean(np.log(np.clip(p, 1e-6, None))))
