"""Personal data at rest in the feedback store and in the service's log lines (issue 11)."""

from __future__ import annotations

import json
import logging

from svc_helpers import AUTH
from test_service_api import assert_error, feedback_body

from routing_model.registry.agencies import DEFAULT_REGISTRY, REPO_ROOT
from service.logsafe import escaped

NIK, PHONE, NAME = "3204123456789012", "081234567890", "Zulkarnaen Wirabhumi"
NOTE = f"pelapor {NAME} NIK {NIK} hp {PHONE}, sudah diteruskan ke dinas"


def _post(client, body: dict, headers: dict = AUTH):
    """POST as raw JSON with \\u escapes, so that lone surrogates reach the server as they are."""
    return client.post("/v1/feedback", data=json.dumps(body), content_type="application/json", headers=headers)


def _stored(app) -> list[dict]:
    return app.extensions["disposisi"].store.export_rows()


def _no_secrets(value) -> None:
    flat = json.dumps(value, ensure_ascii=False)
    for secret in (NIK, PHONE, "Zulkarnaen", "Wirabhumi"):
        assert secret not in flat, flat


def test_note_is_masked_like_the_text(client, app):
    r = _post(client, feedback_body(client, note=NOTE, text=f"Jalan rusak parah. Saya {NAME}, hp {PHONE}"))
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()["feedback"]
    _no_secrets(rec)
    assert "xnamax" in rec["note"] and "xnikx" in rec["note"] and "xteleponx" in rec["note"]
    assert "sudah diteruskan ke dinas" in rec["note"]  # the admin's words survive
    (row,) = _stored(app)
    _no_secrets(row)
    assert row["note"] == rec["note"]


def test_confidential_feedback_keeps_no_free_text(client, app):
    r = _post(client, feedback_body(client, note=NOTE, confidential=True, text=f"Saya {NAME} NIK {NIK} jalan rusak"))
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()["feedback"]
    assert rec["text"] is None and rec["note"] is None and rec["confidential"] is True
    (row,) = _stored(app)
    assert row["text"] is None and row["note"] is None
    _no_secrets(row)


def test_identifiers_holding_a_nik_or_phone_are_masked(client, app):
    body = feedback_body(client, complaint_id=f"LAPOR {PHONE}", admin=f"ani {NIK}", idempotency_key=f"k-{PHONE}")
    r = _post(client, body)
    assert r.status_code == 201, r.get_json()
    (row,) = _stored(app)
    _no_secrets(row)
    assert row["complaint_id"] == "LAPOR xteleponx" and row["admin"] == "ani xnikx"
    # the same request again is a replay of the stored (masked) record, not a conflict
    again = _post(client, body)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert len(_stored(app)) == 1


SURROGATE_FIELDS = ["complaint_id", "admin", "note", "model_version", "idempotency_key", "text", "chosen_agency"]
CONTROL_VALUES = ["LAPOR-1\r\nINFO forged line", "LAPOR-1\nx", "LAPOR\x00-1", "LAPOR\u202e1-", "LAPOR\u2028x"]


def test_lone_surrogate_is_a_400_and_nothing_is_stored(client, app):
    base = feedback_body(client)
    for field in SURROGATE_FIELDS:
        body = {**base, field: "LAPOR-\ud800-1"}
        for _ in range(2):  # a retry gets the same answer
            assert_error(_post(client, body), 400, "invalid_unicode")  # refused by the body reader, before any field
    assert_error(_post(client, {**base, "suggested": base["suggested"][:1] + ["\udfff"]}), 400, "invalid_unicode")
    assert_error(_post(client, {**base, "\ud800": "an unknown key is refused too"}), 400, "invalid_unicode")
    assert _stored(app) == []


def test_control_characters_in_identifiers_are_refused(client, app):
    base = feedback_body(client)
    for value in CONTROL_VALUES:
        for field in ("complaint_id", "admin", "idempotency_key", "model_version"):
            assert_error(_post(client, {**base, field: value}), 400, "invalid_characters")
    assert _stored(app) == []


def test_control_characters_in_a_note_are_dropped_but_line_breaks_kept(client, app):
    r = _post(client, feedback_body(client, note="baris satu\nbaris\x00 dua\x1b[31m"))
    assert r.status_code == 201
    assert r.get_json()["feedback"]["note"] == "baris satu\nbaris dua[31m"


def test_crlf_in_request_data_never_forges_a_log_line(client, app, caplog):
    forged = "LAPOR-7\r\nINFO service.api feedback 999 stored complaint=forged"
    with caplog.at_level(logging.INFO):
        _post(client, feedback_body(client, complaint_id=forged))
        r = _post(client, feedback_body(client, complaint_id="LAPOR-8", idempotency_key="k8"))
        assert r.status_code == 201
        client.get("/v1/suggest%0D%0AINFO%20forged")
    lines = caplog.text.splitlines()
    assert len(lines) == len(caplog.records), lines  # one line per record: no CR/LF inside any message
    for record in caplog.records:
        message = record.getMessage()
        assert "\n" not in message and "\r" not in message, message
    assert not any(line.startswith("INFO service.api feedback 999") for line in lines)
    assert any("complaint='LAPOR-8'" in r.getMessage() for r in caplog.records)


def test_escaped_log_values_are_one_line_masked_and_bounded():
    assert escaped("a\r\nb") == "'a\\r\\nb'"
    assert "\n" not in escaped("x\u2028y\x85z") and "\u2028" not in escaped("x\u2028y")
    assert escaped("\ud800") == "'\\ud800'"
    assert NIK not in escaped(f"id {NIK}") and PHONE not in escaped(f"hp {PHONE}")
    long = escaped("a" * 10_000)
    assert len(long) < 200 and long.endswith("…")


def test_model_card_names_no_file_path(client, demo_model, demo_model_dir):
    on_disk = demo_model.card_
    assert "path" in on_disk["training_data"]  # the operator's card records it...
    shown = client.get("/v1/model").get_json()
    assert shown["version"] == demo_model.version
    flat = json.dumps(shown, ensure_ascii=False)
    assert '"path"' not in flat  # ...the public one names none
    for place in (demo_model_dir, REPO_ROOT, DEFAULT_REGISTRY, on_disk["training_data"]["path"]):
        assert str(place) not in flat, place
    assert not [v for v in _strings(shown) if v.startswith(("/", "~")) or "://" in v]


def _strings(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value
