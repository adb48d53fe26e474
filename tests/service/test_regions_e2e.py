"""A real `disposisi serve` (gunicorn, two workers) of a two-region deployment on loopback, real SQLite file: Bandung's
admin forwards a complaint about Samarinda, Samarinda's admin finds it in its queue, suggested by Samarinda's model,
its received time and due date unchanged (issue 17, "measure it")."""

from __future__ import annotations

import pytest
import requests
from clock_helpers import RECENT
from region_helpers import BANDUNG, SAMARINDA, TEXTS, auth
from svc_helpers import Server


@pytest.mark.slow
def test_forward_between_regions_of_one_served_deployment(deployment, tmp_path):
    data_dir, tokens = deployment
    srv = Server([], {"DISPOSISI_DATA_DIR": str(data_dir)}, tmp_path / "server.log")
    try:
        srv.wait_ready()
        assert "2 regions: kabupaten-bandung, kota-samarinda" in srv.log()
        base = srv.base
        regions = requests.get(f"{base}/v1/regions", headers=auth(tokens["opa"]), timeout=30).json()["regions"]
        versions = {r["slug"]: r["model_version"] for r in regions}
        assert set(versions) == {BANDUNG, SAMARINDA}
        bandung, samarinda = auth(tokens["adm-bandung"]), auth(tokens["adm-samarinda"])
        complaint = {"id": "E2E-1", "text": f"{TEXTS[SAMARINDA]}, Kota Samarinda", "received": f"{RECENT}T09:15:00"}
        r = requests.post(f"{base}/v1/regions/{BANDUNG}/complaints", json=[complaint], headers=bandung, timeout=60)
        assert r.status_code == 201, r.text
        before = requests.get(f"{base}/v1/regions/{BANDUNG}/complaints/E2E-1", headers=bandung, timeout=30).json()
        assert before["outside_region"]["region"] == "Kota Samarinda" and before["model_version"] == versions[BANDUNG]
        # "bukan wewenang" with no destination typed: outside_region pre-fills it, and Samarinda is served here
        r = requests.post(
            f"{base}/v1/regions/{BANDUNG}/complaints/E2E-1/decision",
            json={"action": "not_our_authority"},
            headers=bandung,
            timeout=60,
        )
        assert r.status_code == 201 and r.json()["forward"]["to_region"] == SAMARINDA, r.text
        assert (
            requests.get(f"{base}/v1/regions/{BANDUNG}/complaints/E2E-1", headers=bandung, timeout=30).status_code
            == 404
        )
        queue = requests.get(f"{base}/v1/regions/{SAMARINDA}/queue", headers=samarinda, timeout=30).json()
        assert [i["id"] for i in queue["items"]] == ["E2E-1"]
        after = requests.get(f"{base}/v1/regions/{SAMARINDA}/complaints/E2E-1", headers=samarinda, timeout=30).json()
        assert after["model_version"] == versions[SAMARINDA] and after["status"] == "open"
        assert (after["received"], after["due"]) == (before["received"], before["due"])
        assert "samarinda" in after["suggestions"][0]["agency"].lower()
        assert after["forwards"][0]["by"] == "adm-bandung"
        # and Samarinda's admin decides it there
        r = requests.post(
            f"{base}/v1/regions/{SAMARINDA}/complaints/E2E-1/decision",
            json={"action": "accepted"},
            headers=samarinda,
            timeout=60,
        )
        assert r.status_code == 201 and r.json()["decision"]["decided_by"] == "adm-samarinda"
        ready = requests.get(f"{base}/readyz", timeout=30).json()
        assert ready["status"] == "ready"
    finally:
        srv.stop()
