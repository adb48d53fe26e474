"""No input gives a 5xx: explicit hostile bodies, then hypothesis requests built from service/openapi.json.

Every answer must be < 500; every 4xx must carry the documented ``{"error": {"code", "message"}}``
shape; a refused feedback must not be stored. The fuzz run is bounded (a few hundred requests
per endpoint, well under a minute) and prints its request and status counts (``pytest -s``).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svc_helpers import AUTH

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "service" / "openapi.json").read_text(encoding="utf-8"))
STATUS: Counter = Counter()  # (endpoint, status) over the whole module, printed at the end


def assert_no_5xx(resp, where: str = "") -> None:
    STATUS[resp.status_code] += 1
    assert resp.status_code < 500, f"{where}: {resp.status_code} {resp.get_data()[:300]!r}"
    if resp.status_code >= 400:
        body = resp.get_json(silent=True)
        assert isinstance(body, dict) and set(body) >= {"error"}, (
            f"{where}: not the error shape: {resp.get_data()[:300]!r}"
        )
        assert isinstance(body["error"].get("code"), str) and body["error"]["code"], where
        assert isinstance(body["error"].get("message"), str) and body["error"]["message"], where


def good_feedback(demo_model, **change) -> dict:
    body = {
        "complaint_id": "C-1",
        "text": "jalan rusak di desa jelekong mohon segera diperbaiki",
        "suggested": [demo_model.classes_[0]],
        "chosen_agency": demo_model.classes_[0],
        "action": "accepted",
        "admin": "admin1",
        "model_version": demo_model.version,
        "note": "cek",
        "idempotency_key": "k-1",
    }
    body.update(change)
    return body


def post_raw(client, path: str, raw: bytes, content_type: str = "application/json", headers: dict | None = None):
    return client.post(path, data=raw, headers={"Content-Type": content_type, **(headers or {})})


# -- explicit cases of issue 11 -----------------------------------------------------------------
FEEDBACK_FIELDS = ("complaint_id", "text", "chosen_agency", "admin", "note", "model_version", "idempotency_key")


@pytest.mark.parametrize("field", FEEDBACK_FIELDS + ("suggested",))
def test_lone_surrogate_in_feedback_is_400_and_nothing_is_stored(client, app, demo_model, field):
    value = ["\ud800"] if field == "suggested" else "ab\ud800cd"
    raw = json.dumps(good_feedback(demo_model, **{field: value})).encode()  # ensure_ascii: "\ud800" escaped
    before = app.extensions["disposisi"].store.count()
    for _ in range(2):  # and on the retry
        resp = post_raw(client, "/v1/feedback", raw, headers=AUTH)
        assert_no_5xx(resp, field)
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_unicode"
        assert f"$.{field}" in resp.get_json()["error"]["message"]
    assert app.extensions["disposisi"].store.count() == before
    ok = post_raw(client, "/v1/feedback", json.dumps(good_feedback(demo_model)).encode(), headers=AUTH)
    assert ok.status_code == 201, ok.get_data()


@pytest.mark.parametrize(
    "path,body",
    [
        ("/v1/suggest", {"id": "\udfff", "text": "jalan rusak di desa jelekong"}),
        ("/v1/suggest", {"text": "jalan rusak \ud83d di desa jelekong"}),
        ("/v1/suggest/batch", {"items": [{"id": "x\ud800", "text": "jalan rusak di desa"}]}),
        ("/invocations", {"instances": ["jalan rusak \ud800 di desa"]}),
        ("/v1/suggest", {"text": "jalan rusak di desa jelekong", "\ud800": 1}),
    ],
)
def test_lone_surrogate_anywhere_is_400(client, path, body):
    resp = post_raw(client, path, json.dumps(body).encode())
    assert_no_5xx(resp, path)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_unicode"


def test_valid_surrogate_pair_is_an_emoji_not_an_error(client):
    resp = post_raw(client, "/v1/suggest", b'{"text": "jalan rusak di desa jelekong \\ud83d\\ude21 tolong"}')
    assert resp.status_code == 200, resp.get_data()


@pytest.mark.parametrize(
    "raw,status,code",
    [
        (b"[" * 1000 + b"]" * 1000, 400, "too_deep"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, 400, "too_deep"),
        (b'{"text": "jalan rusak", "x": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "too_deep"),
        (b'{"text": "jalan rusak di desa", "k": ' + b"9" * 5000 + b"}", 400, "invalid_json"),
        (b'{"text": "jalan rusak di desa", "id": -' + b"1" * 5000 + b"}", 400, "invalid_json"),
        (b'{"text": "jalan rusak di desa", "k": 1e999}', 400, "invalid_json"),
        (b'{"text": "jalan rusak di desa", "id": NaN}', 400, "invalid_json"),
        (b'{"text": "jalan \xff\xfe rusak di desa"}', 400, "invalid_encoding"),
        (b'{"text": "jalan \xed\xa0\x80 rusak"}', 400, "invalid_encoding"),  # a surrogate encoded as UTF-8 bytes
        (b'\xef\xbb\xbf{"text": "jalan rusak di desa"}', 400, "invalid_json"),
        (b'{"text": "jalan rusak di desa"', 400, "invalid_json"),
        (b"", 400, "invalid_json"),
    ],
)
def test_hostile_bodies_are_4xx_with_a_code(client, raw, status, code):
    for path in ("/v1/suggest", "/v1/suggest/batch", "/invocations"):
        resp = post_raw(client, path, raw)
        assert_no_5xx(resp, path)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (status, code), (path, resp.get_data()[:200])
    resp = post_raw(client, "/v1/feedback", raw, headers=AUTH)
    assert (resp.status_code, resp.get_json()["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=punycode",
        "application/json; charset=utf-16",
        "application/json; charset=nonsense",
        "application/json; charset=idna",
        "application/json; charset=rot13",
        "application/json; charset=latin-1",
    ],
)
def test_any_charset_but_utf8_is_415(client, content_type):
    resp = post_raw(client, "/v1/suggest", b'{"text": "jalan rusak di desa jelekong"}', content_type)
    assert_no_5xx(resp, content_type)
    assert resp.status_code == 415 and resp.get_json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=UTF-8", "application/json;charset=utf8", "application/problem+json"]
)
def test_utf8_spellings_are_accepted(client, content_type):
    assert post_raw(client, "/v1/suggest", b'{"text": "jalan rusak di desa jelekong"}', content_type).status_code == 200


def _chunked(client, path: str, raw: bytes, headers: dict | None = None):
    # what gunicorn hands the app for Transfer-Encoding: chunked: no Content-Length, a terminated stream
    return client.post(
        path,
        input_stream=io.BytesIO(raw),
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked", **(headers or {})},
    )


def test_oversize_body_is_413_chunked_or_not(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    raw = b'{"text": "' + b"a" * limit + b'"}'
    for path in ("/v1/suggest", "/v1/feedback"):
        for resp in (post_raw(client, path, raw, headers=AUTH), _chunked(client, path, raw, AUTH)):
            assert_no_5xx(resp, path)
            assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "payload_too_large"


def test_chunked_body_within_the_limit_is_read(client):
    resp = _chunked(client, "/v1/suggest", b'{"text": "jalan rusak di desa jelekong mohon diperbaiki"}')
    assert resp.status_code == 200 and resp.get_json()["suggestions"]


def test_invocations_dataframe_split_needs_a_list_of_columns(client):
    resp = post_raw(client, "/invocations", b'{"dataframe_split": {"columns": "text", "data": [["jalan rusak"]]}}')
    assert resp.status_code == 422


# -- hypothesis over the OpenAPI contract --------------------------------------------------------
def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = OPENAPI["components"]["schemas"][name]
    return schema


HOSTILE_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800",
        "a\udfffb",
        "\u202e",
        "\r\nX-Injected: 1",
        "${jndi:ldap://x}",
        "'; DROP TABLE feedback; --",
        "Dinas Perhubungan",
        "NIK 3204123456789012 hp 081234567890",
        "😡" * 50,
        "a" * 25_000,
        "\ufeff",
        "%s%n",
    ]
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    HOSTILE_STRINGS,
)
ANY_JSON = st.recursive(
    LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def from_schema(schema: dict, depth: int = 0) -> st.SearchStrategy:
    """Values valid against a (simple) OpenAPI schema, often with a field swapped for something hostile."""
    schema = _resolve(schema)
    if "oneOf" in schema:
        return st.one_of(*[from_schema(s, depth + 1) for s in schema["oneOf"]])
    if schema is AGENCY:
        return st.one_of(st.sampled_from(AGENCY_NAMES), from_schema({"type": "string"}))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return st.one_of(
            st.text(min_size=1, max_size=80),
            HOSTILE_STRINGS,
            st.just("jalan rusak berlubang di desa jelekong kecamatan baleendah mohon diperbaiki"),
        )
    if kind == "integer":
        return st.integers(min_value=-5, max_value=20)
    if kind == "number":
        return st.floats(min_value=0, max_value=1)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = from_schema(schema.get("items", {}), depth + 1) if depth < 4 else ANY_JSON
        return st.lists(items, max_size=3)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props]
        optional = [k for k in props if k not in required]
        base = st.fixed_dictionaries(
            {k: from_schema(props[k], depth + 1) for k in required},
            optional={k: from_schema(props[k], depth + 1) for k in optional},
        )
        return base
    return ANY_JSON


def mutate(value: object) -> st.SearchStrategy:
    """The valid body itself, or with one key dropped, swapped to any JSON, or an extra key."""
    if not isinstance(value, dict) or not value:
        return st.one_of(st.just(value), ANY_JSON)
    keys = sorted(value)
    return st.one_of(
        st.just(value),
        st.just(value),
        st.sampled_from(keys).map(lambda k: {x: v for x, v in value.items() if x != k}),
        st.tuples(st.sampled_from(keys), ANY_JSON).map(lambda kv: {**value, kv[0]: kv[1]}),
        st.tuples(st.text(max_size=10), ANY_JSON).map(lambda kv: {**value, kv[0]: kv[1]}),
    )


def encode(value: object, how: str) -> bytes:
    if how == "ascii":
        return json.dumps(value).encode()
    text = json.dumps(value, ensure_ascii=False)
    if how == "utf8":
        return text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8 bytes
    if how == "truncated":
        return text.encode("utf-8", "surrogatepass")[: max(0, len(text) // 2)]
    return b"[" * 200 + text.encode("utf-8", "surrogatepass") + b"]" * 200  # "deep"


AGENCY = OPENAPI["components"]["schemas"]["FeedbackRequest"]["properties"]["chosen_agency"]
AGENCY_NAMES = [
    "Dinas Perhubungan Kab. Bandung",
    "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung",
    "dishub",
    "Kecamatan Baleendah",
]
OPERATIONS = [(path, method.upper(), op) for path, ops in OPENAPI["paths"].items() for method, op in ops.items()]
BODY_OPS = [(p, m, op) for p, m, op in OPERATIONS if "requestBody" in op]


@st.composite
def requests_for(draw, path: str, method: str, op: dict):
    headers = draw(st.sampled_from([{}, AUTH, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic \x00"}]))
    if "requestBody" not in op:
        return method, path, None, draw(st.sampled_from(["", "application/json"])), headers
    content = op["requestBody"]["content"]
    if "application/json" not in content:  # an upload (multipart): hostile bytes under any content type
        body = draw(st.binary(max_size=2048))
        content_type = draw(
            st.sampled_from([*content, "multipart/form-data; boundary=x", "application/json", "text/plain"])
        )
        return method, path, body, content_type, headers
    schema = content["application/json"]["schema"]
    value = draw(from_schema(schema).flatmap(mutate))
    how = draw(st.sampled_from(["ascii", "ascii", "utf8", "truncated", "deep"]))
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 6
            + [
                "application/json; charset=latin-1",
                "text/plain",
                "application/json; charset=punycode",
                "application/x-www-form-urlencoded",
            ]
        )
    )
    return method, path, encode(value, how), content_type, headers


ALL_REQUESTS = st.one_of(
    *[requests_for(p, m, op) for p, m, op in OPERATIONS], *[requests_for(p, m, op) for p, m, op in BODY_OPS]
)  # bodies twice: they are the risk


@pytest.fixture(scope="module")
def fuzz_counts():
    counts: Counter = Counter()
    yield counts
    total = sum(counts.values())
    print(f"\nfuzz: {total} requests; statuses " + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))


@pytest.mark.slow
@settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(req=ALL_REQUESTS)
def test_fuzz_every_endpoint_never_5xx(client, fuzz_counts, req):
    method, path, raw, content_type, headers = req
    if raw is None:
        resp = client.open(path, method=method, headers=headers)
    else:
        resp = client.open(path, method=method, data=raw, headers={"Content-Type": content_type, **headers})
    fuzz_counts[resp.status_code] += 1
    assert_no_5xx(resp, f"{method} {path} {raw[:200] if raw else b''!r}")
    if resp.status_code < 300 and path != "/ping" and resp.mimetype == "application/json":
        assert resp.get_json(silent=True) is not None, "a success answers JSON"
    elif resp.status_code < 300 and path != "/ping":  # a file download (the day's .xlsx): documented as such
        op = OPENAPI["paths"][path][method.lower()]
        assert resp.mimetype in op["responses"][str(resp.status_code)]["content"], (path, resp.mimetype)
