"""What fitting learns, declared once.

scikit-learn's estimator contract: parameters are set in ``__init__``, everything learned by ``fit``
is an attribute with a trailing underscore. The two tables below name every such attribute of a
fitted ``AgencyClassifier``/``AgencyPredictor`` and of a fitted ``RoutingModel``, with how it is
kept. The served form's writer and reader (``artifact.served``), the predictor's ``restore`` and the
skops trust list (``persistence.TRUSTED_TYPES``) are all read off these tables, so a new learned
table is declared here and nowhere else; ``tests/model/test_learned_state.py`` fails when fitting
sets an attribute that is not declared, or a served round trip loses one.
"""

from __future__ import annotations

from dataclasses import dataclass

# How the served form keeps a field (``artifact.served`` has one writer and one reader per kind).
STRINGS = "strings"  # 1-d array of str, read back as object array
FLOATS = "floats"  # float64 array
SPARSE = "sparse"  # CSR matrix as data/indices/indptr/shape arrays
JSON = "json"  # plain JSON in the ``meta`` record
GROUPS = "groups"  # topic -> (agency names, (kecamatan, desa) bindings)
LINEAR = "linear"  # a linear model as coef/intercept/classes arrays
PLACES = "places"  # a ``PlaceIndex`` as its name tables
MENTIONS = "mentions"  # a ``MentionIndex`` as its phrases
VIEWS = "views"  # the plain feature views: vocabulary, idf and text preparation per view
PREDICTOR = "predictor"  # a fitted ``AgencyPredictor``, by ``PREDICTOR_STATE``
# Kept in no served array:
TRAINING = "training"  # in model.skops only: what training reads; prediction reads what it became (``views_``)
DERIVED = "derived"  # rebuilt on load from other fields
CARD = "card"  # on the sealed card.json (and in model.skops); restored from the card by ``load_served``

# Which directory of a split model keeps a served field (``artifact.heads``): the base is what every region shares
# (one copy per deployment, memory-mapped by every worker), the head what is a region's own.
BASE = "base"
HEAD = "head"

SERVED_KINDS = frozenset({STRINGS, FLOATS, SPARSE, JSON, GROUPS, LINEAR, PLACES, MENTIONS, VIEWS, PREDICTOR})

_NUMPY = ("numpy.ndarray", "numpy.dtype")
_LINEAR = ("sklearn.linear_model._stochastic_gradient.SGDClassifier", *_NUMPY, "numpy.float64", "numpy.int64")
_FEATURES = (
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "routing_model.model.predict.predictor.clean_all",
    "routing_model.model.fit.preprocess.ComplaintPreprocessor",
    "routing_model.model.fit.features.PrunedTfidf",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "routing_model.model.fit.features.PlaceMentionFeatures",
    "routing_model.places.matching.PlaceIndex",
    "routing_model.places.inbox.InboxPlaceIndex",
    "builtins.frozenset",
    *_NUMPY,
)


@dataclass(frozen=True)
class Learned:
    """One learned attribute: ``name`` (trailing underscore), ``kind`` (how it is kept, above), ``key`` (its name
    in the served form; default: ``name`` without the underscore), ``skops_types``: the non-default types it
    brings into ``model.skops``, which the trust list must name, and ``part``: ``BASE`` when every region adapted
    from one model has the same value (kept once, in the base directory), ``HEAD`` when it is the region's own."""

    name: str
    kind: str
    key: str = ""
    skops_types: tuple[str, ...] = ()
    part: str = HEAD

    @property
    def served_key(self) -> str:
        return self.key or self.name.rstrip("_")


# A fitted AgencyClassifier (fit or adapt_from) has exactly these; the served AgencyPredictor all but TRAINING.
# classes_, groups_, mandate_agencies_ and mentions_ follow from the registry alone, but stay saved: deriving them
# at load would change the served layout (SCHEMA 4 -> 5), and model directories saved today must keep loading.
PREDICTOR_STATE: tuple[Learned, ...] = (
    Learned("classes_", STRINGS, skops_types=_NUMPY),
    Learned("prior_", FLOATS, skops_types=_NUMPY),
    Learned("holders_", FLOATS, skops_types=_NUMPY),
    Learned("function_codes_", STRINGS, skops_types=_NUMPY, part=BASE),
    Learned(
        "mandate_matrix_",
        SPARSE,
        key="mandate",
        skops_types=("scipy.sparse._csr.csr_matrix", "scipy.sparse._csr.csr_array", *_NUMPY),
    ),
    Learned("mandate_agencies_", JSON),
    Learned("groups_", GROUPS, skops_types=("builtins.tuple",)),
    Learned("topic_model_", LINEAR, key="topic", skops_types=_LINEAR),
    Learned("function_model_", LINEAR, key="function", skops_types=_LINEAR, part=BASE),
    Learned(
        "place_index_",
        PLACES,
        key="places",
        skops_types=(
            "routing_model.places.matching.PlaceIndex",
            "routing_model.places.inbox.InboxPlaceIndex",
            "builtins.frozenset",
        ),
    ),
    Learned("mentions_", MENTIONS, skops_types=("routing_model.model.predict.predictor.MentionIndex",)),
    # model.skops keeps features_ and rebuilds views_ from it on load; the served form keeps views_
    Learned("views_", VIEWS, part=BASE),  # vocabularies, idf, word lists (and the place view's scale)
    Learned("features_", TRAINING, skops_types=_FEATURES),
    Learned("n_features_in_", TRAINING),  # scikit-learn's; always 1 (the input is one text column)
)

# A fitted RoutingModel (fit or adapt; card_ once saved or loaded). Its JSON fields keep their names in the served
# form's "model" record, as files written since served.npz exists have them.
MODEL_STATE: tuple[Learned, ...] = (
    Learned("classifier_", PREDICTOR, skops_types=("routing_model.model.fit.classifier.AgencyClassifier",)),
    Learned("classes_", DERIVED),  # the classifier's
    Learned("label_counts_", JSON, key="label_counts_"),
    Learned("small_data_", JSON, key="small_data_"),
    Learned("temperature_", JSON, key="temperature_"),
    Learned("function_mix_", JSON, key="function_mix_"),
    Learned("review_threshold_", JSON, key="review_threshold_"),
    Learned("review_thresholds_", JSON, key="review_thresholds_"),
    Learned("calibration_", CARD, key="calibration", skops_types=("numpy.float64",)),
    Learned("base_", CARD, key="base_model"),  # adapt only: the model it was adapted from
    Learned("card_", CARD),
)


def field_names(state: tuple[Learned, ...], kinds: frozenset[str] | None = None) -> set[str]:
    """The attribute names of ``state`` (only those of ``kinds``, when given)."""
    return {f.name for f in state if kinds is None or f.kind in kinds}


def served_fields(state: tuple[Learned, ...], part: str | None = None) -> tuple[Learned, ...]:
    """The fields of ``state`` kept in the served form (only those of ``part``, when given)."""
    return tuple(f for f in state if f.kind in SERVED_KINDS and (part is None or f.part == part))


def skops_types(*states: tuple[Learned, ...]) -> frozenset[str]:
    """Every type the declared fields bring into ``model.skops``."""
    return frozenset(t for state in states for f in state for t in f.skops_types)
