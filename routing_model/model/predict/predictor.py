"""Agency probabilities, explanations and evidence for complaint texts, from a fitted model's
numbers alone: what ``disposisi serve`` runs, without scikit-learn.

``AgencyPredictor`` holds the prediction half of the routing classifier (its docstring in
``classifier`` says how the views mix). ``classifier.AgencyClassifier`` is an
``AgencyPredictor`` that can also fit (scikit-learn); ``artifact.served`` rebuilds an
``AgencyPredictor`` from plain arrays. Both predict through the same code below, on plain
views: ``TextView`` (a text preparation and a ``vectorize.TermView``) and ``PlaceView``.
The registry helpers that training and prediction share live here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from routing_model.errors import DisposisiError
from routing_model.lookup import DerivedTables, prefixes
from routing_model.model.predict.learned import PREDICTOR_STATE, SERVED_KINDS, field_names
from routing_model.model.predict.vectorize import TermView, linear_scores
from routing_model.places.inbox import InboxPlaceIndex
from routing_model.places.matching import PlaceIndex, PlaceMatch
from routing_model.registry.agencies import Registry
from routing_model.text.cleaning import clean, tokenize
from routing_model.text.name_keys import name_key
from routing_model.text.normaliser import WordNormaliser
from routing_model.text.tokens import cleaned, cleaned_tokens

WORDS = "words"  # the word view: first in the features (reasons read its columns), its rows are the evidence

PLACE_GROUP = "__place__:"  # topic class of all place-bound agencies of one kind
PLACE_OFFICES = ("kecamatan", "kelurahan", "desa")  # kinds whose name is a place


def registry_document(agency, catalogue=None) -> str:
    """What the registry knows about an agency, written as a complaint-like text; with a
    catalogue, the descriptions of the functions it declares too (a standard-named registry
    with short descriptions then still says what each agency does)."""
    parts = [agency.name, *agency.aliases, agency.description]
    # An inbox's government holds every urusan of its level: its functions say nothing of its topic.
    if catalogue is not None and agency.kind != "daerah":
        parts.extend(catalogue.document(code) for code in getattr(agency, "functions", ()) if code in catalogue)
    return " . ".join(p for p in parts if p)


def is_place_bound(agency) -> bool:
    return bool(agency.place) and agency.kind != "pemerintah_daerah"


def topic_of(agency) -> str:
    return PLACE_GROUP + agency.kind if is_place_bound(agency) else agency.name


def place_binding(agency) -> tuple[str, str | None]:
    """(kecamatan, desa or None) of a place-bound agency; ``place`` is "Kec" or "Kec/Desa".
    An inbox's government is bound to its whole place ("Province/Region" or "Province"), as its
    index (``places.inbox``) reports it."""
    if agency.kind == "daerah":
        return agency.place, None
    kec, _, desa = agency.place.partition("/")
    return kec.strip(), (desa.strip() or None)


def common_words_of(places: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """Place names that are also ordinary Indonesian words (Sastrawi's dictionary): "biru", "harapan"."""
    from routing_model.text.stemming import sastrawi_words

    dictionary = sastrawi_words()
    names = [*places, *(v for villages in places.values() for v in villages)]
    return frozenset(c for c in (name_key(n, keep="letters", joiner="") for n in names) if c in dictionary)


def build_place_index(registry: Registry) -> PlaceIndex | InboxPlaceIndex:
    """The places of the registry's region, with the registry's own spellings of kecamatan; for an
    inbox, the places of its governments (``places.inbox``)."""
    from routing_model.places.regions import region_places

    if registry.is_inbox:
        return InboxPlaceIndex(a.place for a in registry.active if a.kind == "daerah")
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


def build_mention_index(registry: Registry) -> MentionIndex:
    """Names and aliases of agencies a citizen may name; the region itself and the offices of
    places are left out (citizens address "Pemkab Bandung" whatever the topic, and "kecamatan
    soreang" or "desa jelekong" says where, not who). A named puskesmas is a who."""
    phrases = {}
    for agency in registry.active:
        if agency.kind in ("pemerintah_daerah", "daerah", *PLACE_OFFICES):
            continue
        for label in (agency.name, *agency.aliases):
            key = " ".join(tokenize(clean(label)))
            # a national body is named by three letters as often as not (PLN, KAI, OJK, BPN)
            if len(key) >= 4 or (agency.kind == "nasional" and len(key) == 3):
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

    def of(self, i: int) -> Evidence:
        return Evidence(self.words[i], [self.places[i]], [self.mentions[i]])


class NotFittedError(DisposisiError, ValueError, AttributeError):
    """A classifier used before ``fit`` (the same bases as scikit-learn's ``NotFittedError``)."""


def clean_all(texts) -> list[str]:
    """Cleaned (masked, lower-cased) texts for the character n-gram view."""
    return [cleaned("" if t is None else str(t)) for t in texts]


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """``scipy.special.softmax``: exp(x - max) / sum, along ``axis``."""
    z = x - x.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


@dataclass(eq=False)
class TextView:
    """One TF-IDF view of the features: how a text is prepared (stems by ``stemmer``; without
    one, the cleaned text of the character view), and the fitted terms it is counted in."""

    name: str
    terms: TermView
    stemmer: WordNormaliser | None = None

    def documents(self, texts: list[str]) -> list[str]:
        return self.stemmer.transform(texts) if self.stemmer is not None else clean_all(texts)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        return self.terms.transform(self.documents(texts))


@dataclass(frozen=True)
class PlaceView:
    """Two columns: does the text name a kecamatan, does it name a desa/kelurahan of the region
    (a place-bound complaint goes to the local office; topic words cannot carry that)."""

    scale: float = 1.0
    names = ("place__kecamatan_named", "place__desa_named")

    def columns(self, places: list[list[PlaceMatch]]) -> sp.csr_matrix:
        """The two columns from the place matches of each text (``PlaceIndex.find``)."""
        rows = []
        for matches in places:
            best = matches[0].score if matches else 0.0
            rows.append((self.scale * (best >= 2.0), self.scale * (0 < best < 2.0)))
        return sp.csr_matrix(np.asarray(rows, dtype=float).reshape(-1, 2))


class AgencyPredictor(DerivedTables):
    """The prediction half of the routing classifier (see the module docstring).

    Learned state: ``learned.PREDICTOR_STATE`` (set by ``AgencyClassifier.fit`` or ``restore``);
    ``topic_model_`` and ``function_model_`` are anything with ``coef_``, ``intercept_`` and ``classes_``.
    Parameters prediction reads: ``registry`` and ``PARAMETERS``.
    """

    PARAMETERS = ("function_mix", "temperature", "mention_boost", "mandate_boost", "prior_smoothing")

    @classmethod
    def restore(cls, registry: Registry, parameters: dict[str, float], state: dict) -> AgencyPredictor:
        """A predictor from its parameters and served learned state (``artifact.served``): attributes set, tables
        derived. ``state`` must hold exactly the served fields of ``PREDICTOR_STATE``."""
        expected = field_names(PREDICTOR_STATE, SERVED_KINDS)
        if set(state) != expected or set(parameters) != set(cls.PARAMETERS):
            raise ValueError(
                f"learned state {sorted(set(state) ^ expected)} or parameters "
                f"{sorted(set(parameters) ^ set(cls.PARAMETERS))} missing or unknown"
            )
        out = cls.__new__(cls)
        out.__dict__.update({"registry": registry, **parameters, **state})
        out._derive()
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "topic_model_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit() first, or load a saved model."
            )

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
                for j, t in enumerate(self.topic_model_.classes_)
                if t in self.groups_
            },
        }
        self._function_shares = self._shares()
        self._word_names = self._word_view().terms.feature_names()  # reasons read these

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
        views = []
        for view in self.views_:
            if isinstance(view, PlaceView):
                views.append(view.columns(evidence.places))
            elif view.name == WORDS:
                views.append(evidence.words)
            else:
                views.append(view.transform(texts))
        X = sp.hstack(views, format="csr")
        logits = (linear_scores(self.topic_model_, X), linear_scores(self.function_model_, X))
        context = (
            self._place_distributions(evidence.places),
            self._mentioned_agencies(evidence.mentions),
            self.mandate_similarity(evidence.words),
        )
        return logits, context, evidence

    def evidence(self, texts) -> Evidence:
        self._check_fitted()
        texts = list(texts)
        return Evidence(
            self._word_view().transform(texts),
            [self.place_index_.find(t) for t in texts],
            [self.mentions_.spans(t) for t in texts],
        )

    def _word_view(self) -> TextView:
        return next(v for v in self.views_ if v.name == WORDS)

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

    def proba_from_logits(
        self, logits, context, temperature: float | None = None, mix: float | None = None
    ) -> np.ndarray:
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
        log_p = np.log(
            np.clip(
                local
                if w <= 0
                else (1.0 - w) * local + w * self._function_view(softmax(function_logits, axis=1), places),
                1e-300,
                None,
            )
        )
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
        self._check_fitted()
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
        surface = _surface_words(text, self._word_view().stemmer)
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
        held = [
            codes.index(c) for c in (registry_agency.functions if registry_agency is not None else ()) if c in codes
        ]
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
