"""The HTTP API through Flask's test client: answers, the error shape, auth, idempotent feedback."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest
from svc_helpers import ADMIN_TOKEN, AUTH, HASHED_TOKEN

ROAD = "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki oleh dinas terkait"
TRASH = "Sampah menumpuk di pinggir jalan dekat pasar dan tidak diangkut selama dua minggu, baunya menyengat"


def assert_error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) >= {"error"} and set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in resp.get_data(as_text=True)
    if code:
        assert body["error"]["code"] == code, body
    return body


def feedback_body(client, **over) -> dict:
    top = client.post("/v1/suggest", json={"text": ROAD}).get_json()
    body = {
        "complaint_id": "LAPOR-1",
        "text": ROAD,
        "suggested": [s["agency"] for s in top["suggestions"]],
        "chosen_agency": top["suggestions"][0]["agency"],
        "action": "accepted",
        "admin": "ani",
        "model_version": top["model_version"],
        "needs_review": top["needs_review"],
        "idempotency_key": "key-1",
    }
    body.update(over)
    return body


# -- suggest ------------------------------------------------------------------------------------
def test_suggest_answers_with_agencies_confidence_reasons(client, demo_model):
    r = client.post("/v1/suggest", json={"text": ROAD, "id": "A-1", "k": 5})
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"id", "suggestions", "needs_review", "reasons", "warnings", "outside_region", "model_version"}
    assert body["id"] == "A-1" and body["model_version"] == demo_model.version
    assert len(body["suggestions"]) == 5
    confs = [s["confidence"] for s in body["suggestions"]]
    assert confs == sorted(confs, reverse=True) and 0 < sum(confs) <= 1.0001
    assert all(demo_model.registry.resolve(s["agency"]) for s in body["suggestions"])
    assert "Pekerjaan Umum" in body["suggestions"][0]["agency"]
    assert body["reasons"] and all(isinstance(w, str) for w in body["reasons"])


def test_suggest_matches_the_model(client, demo_model):
    body = client.post("/v1/suggest", json={"text": TRASH}).get_json()
    expected = demo_model.suggest([TRASH], k=3)[0].to_dict()
    assert body["suggestions"] == expected["suggestions"] and body["needs_review"] == expected["needs_review"]
    assert body["id"] is None


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "missing_text"),
        ({"text": ""}, "empty_text"),
        ({"text": "   \n "}, "empty_text"),
        ({"text": 42}, "not_text"),
        ({"text": ["a"]}, "not_text"),
        ({"text": "x" * 20_001}, "text_too_long"),
        ({"text": ROAD, "k": "3"}, None),
        ({"text": ROAD, "k": 0}, None),
        ({"text": ROAD, "k": True}, None),
        ({"text": ROAD, "id": {"a": 1}}, None),
        (["not", "an", "object"], None),
    ],
)
def test_suggest_rejects_bad_fields_with_422(client, payload, code):
    assert_error(client.post("/v1/suggest", json=payload), 422, code)


# -- batch --------------------------------------------------------------------------------------
def test_batch_answers_each_item_and_isolates_errors(client):
    items = [{"text": ROAD, "id": 1}, {"text": ""}, {"text": TRASH, "id": "t"}, "bare string", {"text": 5, "id": "n"}]
    r = client.post("/v1/suggest/batch", json={"items": items, "k": 2})
    assert r.status_code == 200
    out = r.get_json()["items"]
    assert len(out) == 5
    assert out[0]["id"] == "1" and len(out[0]["suggestions"]) == 2
    assert out[1]["error"]["code"] == "empty_text"
    assert out[2]["id"] == "t" and "suggestions" in out[2]
    assert out[3]["error"]["code"] == "invalid_item"
    assert out[4] == {"id": "n", "error": {"code": "not_text", "message": out[4]["error"]["message"]}}
    assert r.get_json()["n_errors"] == 3


def test_batch_limits_and_shapes(client):
    assert_error(client.post("/v1/suggest/batch", json={"items": [{"text": ROAD}] * 51}), 422, "too_many_items")
    assert_error(client.post("/v1/suggest/batch", json={}), 422, "missing_field")
    assert_error(client.post("/v1/suggest/batch", json={"items": {"text": ROAD}}), 422)
    assert client.post("/v1/suggest/batch", json={"items": []}).get_json()["items"] == []


# -- every POST endpoint: content type, JSON, size --------------------------------------------
POSTS = ["/v1/suggest", "/v1/suggest/batch", "/v1/feedback", "/invocations"]


@pytest.mark.parametrize("path", POSTS)
def test_wrong_content_type_is_415(client, path):
    assert_error(client.post(path, data=json.dumps({"text": ROAD}), content_type="text/plain", headers=AUTH), 415)
    assert_error(client.post(path, data={"text": ROAD}, headers=AUTH), 415)


@pytest.mark.parametrize("path", POSTS)
def test_invalid_json_is_400(client, path):
    assert_error(
        client.post(path, data='{"text": "jalan', content_type="application/json", headers=AUTH), 400, "invalid_json"
    )
    assert_error(client.post(path, data=b"\xff\xfe{}", content_type="application/json", headers=AUTH), 400)


@pytest.mark.parametrize("path", POSTS)
def test_huge_body_is_413(client, path):
    body = json.dumps({"text": "a" * (300 * 1024)})
    assert_error(client.post(path, data=body, content_type="application/json", headers=AUTH), 413, "payload_too_large")


@pytest.mark.parametrize("path", POSTS)
def test_body_that_is_not_an_object_is_422(client, path):
    assert_error(client.post(path, json="just a string", headers=AUTH), 422)


@pytest.mark.parametrize(
    "method, path", [("get", "/v1/suggest"), ("post", "/v1/agencies"), ("delete", "/v1/feedback"), ("post", "/healthz")]
)
def test_wrong_method_is_405(client, method, path):
    assert_error(getattr(client, method)(path), 405, "method_not_allowed")


def test_unknown_path_is_404(client):
    assert_error(client.get("/v2/nothing"), 404, "not_found")


# -- feedback -----------------------------------------------------------------------------------
def test_feedback_requires_a_token(client):
    body = feedback_body(client)
    assert_error(client.post("/v1/feedback", json=body), 401, "unauthorized")
    assert_error(client.post("/v1/feedback", json=body, headers={"Authorization": "Basic abc"}), 401)
    assert_error(client.post("/v1/feedback", json=body, headers={"Authorization": "Bearer wrong"}), 403, "forbidden")
    assert_error(client.post("/v1/feedback", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"}), 403)
    assert client.get("/v1/stats").get_json()["total"]["n"] == 0
    # a token configured by its sha256 works as well as a plain one
    assert (
        client.post("/v1/feedback", json=body, headers={"Authorization": f"Bearer {HASHED_TOKEN}"}).status_code == 201
    )


def test_feedback_is_stored_masked_and_replay_is_not_counted_twice(client, app):
    text = ROAD + ". Hubungi saya di 0812-3456-7890 atau budi@example.com, NIK 3204012345678901"
    body = feedback_body(client, text=text, note="sudah diteruskan")
    r1 = client.post("/v1/feedback", json=body, headers=AUTH)
    assert r1.status_code == 201, r1.get_json()
    rec = r1.get_json()["feedback"]
    assert r1.get_json()["replayed"] is False
    for secret in ("0812", "budi@example.com", "3204012345678901"):
        assert secret not in rec["text"]
    assert rec["confidential"] is False and rec["note"] == "sudah diteruskan" and rec["created_at"].endswith("Z")
    r2 = client.post("/v1/feedback", json=body, headers=AUTH)
    assert r2.status_code == 200 and r2.get_json()["replayed"] is True
    assert r2.get_json()["feedback"] == rec
    # the same key in the header instead of the body
    del body["idempotency_key"]
    assert client.post("/v1/feedback", json=body, headers={**AUTH, "Idempotency-Key": "key-1"}).status_code == 200
    assert app.extensions["disposisi"].store.count() == 1
    assert client.get("/v1/stats").get_json()["total"]["n"] == 1


def test_feedback_key_reused_for_other_feedback_is_409(client):
    assert client.post("/v1/feedback", json=feedback_body(client), headers=AUTH).status_code == 201
    other = feedback_body(client, complaint_id="LAPOR-2")
    assert_error(client.post("/v1/feedback", json=other, headers=AUTH), 409, "idempotency_key_reused")


def test_confidential_feedback_keeps_no_text(client, app):
    r = client.post("/v1/feedback", json=feedback_body(client, confidential=True), headers=AUTH)
    assert r.status_code == 201
    rec = r.get_json()["feedback"]
    assert rec["text"] is None and rec["confidential"] is True and len(rec["text_sha256"]) == 64
    assert app.extensions["disposisi"].store.export_rows()[0]["text"] is None


def test_feedback_resolves_aliases_and_rejects_unknown_agency(client, demo_model):
    agency = next(a for a in demo_model.registry.agencies if a.aliases and a.active)
    r = client.post(
        "/v1/feedback", json=feedback_body(client, chosen_agency=agency.aliases[0], action="corrected"), headers=AUTH
    )
    assert r.status_code == 201 and r.get_json()["feedback"]["chosen_agency"] == agency.name
    bad = feedback_body(client, chosen_agency="Dinas Urusan Naga Kab. Bandung", idempotency_key="key-2")
    assert_error(client.post("/v1/feedback", json=bad, headers=AUTH), 422, "unknown_agency")


@pytest.mark.parametrize(
    "change",
    [
        {"complaint_id": None},
        {"text": None},
        {"suggested": None},
        {"chosen_agency": None},
        {"action": None},
        {"admin": None},
        {"model_version": None},
        {"text": ""},
        {"text": 3},
        {"suggested": "Dinas"},
        {"suggested": [1, 2]},
        {"action": "deleted"},
        {"admin": ""},
        {"admin": 7},
        {"confidential": "yes"},
        {"needs_review": "no"},
        {"note": 5},
        {"complaint_id": True},
        {"idempotency_key": ""},
        {"idempotency_key": 12},
    ],
)
def test_feedback_rejects_missing_and_mistyped_fields(client, change):
    body = {k: v for k, v in {**feedback_body(client), **change}.items() if v is not None}
    assert_error(client.post("/v1/feedback", json=body, headers=AUTH), 422)
    assert client.get("/v1/stats").get_json()["total"]["n"] == 0


def test_feedback_accepts_suggestion_objects(client):
    top = client.post("/v1/suggest", json={"text": TRASH}).get_json()
    body = feedback_body(
        client, suggested=top["suggestions"], chosen_agency=top["suggestions"][1]["agency"], action="corrected"
    )
    rec = client.post("/v1/feedback", json=body, headers=AUTH).get_json()["feedback"]
    assert rec["suggested"] == [s["agency"] for s in top["suggestions"]]


def test_stats_per_agency_and_version(client):
    top = client.post("/v1/suggest", json={"text": ROAD}).get_json()
    names = [s["agency"] for s in top["suggestions"]]
    posts = [
        dict(chosen_agency=names[0], action="accepted", needs_review=False),
        dict(chosen_agency=names[1], action="corrected", needs_review=True),
        dict(chosen_agency=names[0], action="accepted", needs_review=None, model_version="old"),
    ]
    outside = next(
        a.name for a in client.application.extensions["disposisi"].model.registry.active if a.name not in names
    )
    posts.append(dict(chosen_agency=outside, action="not_our_authority", needs_review=True, model_version="old"))
    for i, p in enumerate(posts):
        body = feedback_body(client, suggested=names, idempotency_key=f"s-{i}", complaint_id=f"c{i}", **p)
        body = {k: v for k, v in body.items() if v is not None}
        assert client.post("/v1/feedback", json=body, headers=AUTH).status_code == 201
    stats = client.get("/v1/stats").get_json()
    assert stats["total"]["n"] == 4
    assert stats["total"]["top1_accepted_share"] == 0.5
    assert stats["total"]["in_top3_share"] == 0.75
    assert stats["total"]["needs_review_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert stats["by_agency"][names[0]]["n"] == 2 and stats["by_agency"][names[0]]["top1_accepted_share"] == 1.0
    assert stats["by_model_version"]["old"]["n"] == 2 and stats["by_model_version"]["old"]["in_top3_share"] == 0.5
    assert stats["by_model_version"][top["model_version"]]["actions"] == {"accepted": 1, "corrected": 1}


def test_complaint_text_is_not_logged_at_info(client, caplog):
    secret = "Rahasia Ibu Sumarni jalan berlubang di gang mawar nomor tujuh"
    with caplog.at_level(logging.INFO):
        client.post("/v1/suggest", json={"text": secret})
        client.post("/v1/suggest/batch", json={"items": [{"text": secret}]})
        client.post("/v1/feedback", json=feedback_body(client, text=secret), headers=AUTH)
        client.post("/invocations", json={"instances": [secret]})
    assert "Sumarni" not in caplog.text


# -- read endpoints, health, MLflow ------------------------------------------------------------
def test_agencies_model_and_openapi(client, demo_model):
    ag = client.get("/v1/agencies").get_json()
    assert ag["n"] == len(demo_model.registry.agencies)
    assert ag["agencies"][0] == demo_model.registry.agencies[0].as_dict()
    assert client.get("/v1/model").get_json()["version"] == demo_model.version
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/v1/suggest",
        "/v1/suggest/batch",
        "/v1/feedback",
        "/v1/agencies",
        "/v1/model",
        "/v1/stats",
        "/healthz",
        "/readyz",
        "/ping",
        "/invocations",
        "/openapi.json",
    ):
        assert path in spec["paths"], path
    # every API route the app serves is documented (the HTML pages of the desk and Monev are in docs/desk.md)
    served = {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", r.rule)
        for r in client.application.url_map.iter_rules()
        if r.endpoint != "static" and not r.endpoint.startswith(("desk.", "monev.")) and r.rule != "/"
    }
    assert served <= set(spec["paths"]), served - set(spec["paths"])


def test_health_and_readiness(client, app):
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["database"] is True
    app.extensions["disposisi"].store.engine.dispose()
    app.extensions["disposisi"].store.engine = __import__("sqlalchemy").create_engine("sqlite:////nonexistent/dir/x.db")
    assert_error(client.get("/readyz"), 503, "not_ready")
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"instances": [ROAD, {"text": TRASH}]},
        {"inputs": [ROAD, {"text": TRASH}]},
        {"dataframe_records": [{"text": ROAD}, {"text": TRASH}]},
        {"dataframe_split": {"columns": ["id", "text"], "data": [[1, ROAD], [2, TRASH]]}},
    ],
)
def test_invocations_returns_probabilities(client, payload):
    assert client.get("/ping").status_code == 200
    r = client.post("/invocations", json=payload)
    assert r.status_code == 200, r.get_json()
    preds = r.get_json()["predictions"]
    assert len(preds) == 2
    for p in preds:
        assert isinstance(p["agency_1"], str) and 0 < p["probability_1"] <= 1
        assert p["probability_1"] >= p["probability_2"] >= p["probability_3"]
        assert p["suggestions"][0] == {"agency": p["agency_1"], "confidence": p["probability_1"]}
    assert "Pekerjaan Umum" in preds[0]["agency_1"]


def test_invocations_bad_input(client):
    assert_error(client.post("/invocations", json={"rows": [ROAD]}), 422)
    assert_error(client.post("/invocations", json={"instances": {"text": ROAD}}), 422)
    assert_error(client.post("/invocations", json={"dataframe_records": [ROAD]}), 422)
    preds = client.post("/invocations", json={"instances": [ROAD, "", 5]}).get_json()["predictions"]
    assert (
        "agency_1" in preds[0] and preds[1]["error"]["code"] == "empty_text" and preds[2]["error"]["code"] == "not_text"
    )


def test_app_state_lives_in_extensions_not_globals(app):
    import service.api
    import service.state
    from routing_model import RoutingModel

    state = app.extensions["disposisi"]
    assert isinstance(state.model, RoutingModel)
    for module in (service.api, service.state):
        assert not any(isinstance(v, RoutingModel) for v in vars(module).values())


def test_unexpected_failure_is_a_500_without_details(app, monkeypatch):
    state = app.extensions["disposisi"]

    def boom(*a, **k):
        raise RuntimeError("secret internals: Ibu Sumarni")

    monkeypatch.setattr(state.model, "suggest", boom)
    r = app.test_client().post("/v1/suggest", json={"text": ROAD})
    body = assert_error(r, 500, "internal_error")
    assert "Sumarni" not in json.dumps(body)


def test_config_from_environment(monkeypatch, tmp_path):
    import hashlib

    from service.config import ConfigError
    from service.config import load_config as read_config

    def load_config(overrides=None, environ=None):  # the DISPOSISI_* variables are read from os.environ
        for name in [n for n in os.environ if n.startswith("DISPOSISI_")]:
            monkeypatch.delenv(name)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return read_config(overrides)

    env = {
        "DISPOSISI_MODEL_DIR": "m",
        "DISPOSISI_DATA_DIR": str(tmp_path),
        "DISPOSISI_ADMIN_TOKENS": "a, b",
        "DISPOSISI_ADMIN_TOKEN_HASHES": "A" * 64,
        "DISPOSISI_MAX_BATCH": "10",
    }
    cfg = load_config(environ=env)
    assert cfg["MAX_BATCH"] == 10 and cfg["MAX_TEXT_CHARS"] == 20_000 and cfg["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path.resolve() / 'disposisi.sqlite3'}"
    assert set(cfg["ADMIN_TOKEN_HASHES"]) == {
        "a" * 64,
        hashlib.sha256(b"a").hexdigest(),
        hashlib.sha256(b"b").hexdigest(),
    }
    assert cfg["ADMIN_TOKENS"] is None
    assert load_config({"DATABASE_URL": "postgresql+psycopg://u@h/db"}, environ=env)["DATABASE_URL"].startswith(
        "postgresql"
    )
    for bad in (
        {"DISPOSISI_MODEL_DIR": "m", "DISPOSISI_MAX_BATCH": "many"},
        {"DISPOSISI_MODEL_DIR": "m", "DISPOSISI_ADMIN_TOKEN_HASHES": "xyz"},
        {},
        {"DISPOSISI_MODEL_DIR": "m", "DISPOSISI_MODELS_DIR": "n"},
    ):
        with pytest.raises(ConfigError):
            load_config(environ=bad)


def test_no_configured_token_refuses_all_feedback(demo_model, demo_model_dir, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    upgrade(default_sqlite_url(tmp_path))
    app = create_app({"MODEL": demo_model, "MODEL_DIR": str(demo_model_dir), "DATA_DIR": str(tmp_path)})
    try:
        c = app.test_client()
        assert_error(c.post("/v1/feedback", json=feedback_body(c), headers=AUTH), 403)
    finally:
        app.extensions["disposisi"].close()
