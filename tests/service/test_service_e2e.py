"""`disposisi serve` as a real process on a loopback port: real HTTP, then a model switch under load."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
import requests
from svc_helpers import ADMIN_TOKEN, WORKERS, Server, copy_model, free_port, two_versions

from routing_model.artifact.store import point

pytestmark = pytest.mark.slow

ROAD = "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki"


@pytest.fixture()
def served(demo_model_dir, tmp_path):
    models, _, b = two_versions(demo_model_dir, tmp_path)
    env = {
        "DISPOSISI_DATA_DIR": str(tmp_path / "var"),
        "DISPOSISI_ADMIN_TOKENS": ADMIN_TOKEN,
        "DISPOSISI_RELOAD_INTERVAL": "0.5",
    }
    server = Server(["--models-dir", str(models)], env, tmp_path / "server.log")
    try:
        server.wait_ready()
        yield server, models, b
    finally:
        server.stop()


def test_real_server_end_to_end_and_hot_reload(served, tmp_path):
    server, models, b = served
    base = server.base
    s = requests.Session()
    assert s.get(base + "/healthz").status_code == 200
    assert s.get(base + "/openapi.json").json()["openapi"].startswith("3.")
    r = s.post(base + "/v1/suggest", json={"text": ROAD, "id": "e2e-1"}, timeout=10)
    assert r.status_code == 200 and r.json()["model_version"] == "version-a"
    top = r.json()
    assert s.post(base + "/v1/suggest/batch", json={"items": [{"text": ROAD}, {"text": ""}]}).json()["n_errors"] == 1
    assert "predictions" in s.post(base + "/invocations", json={"inputs": [ROAD]}).json()
    assert s.get(base + "/ping").status_code == 200
    # errors keep their JSON shape through gunicorn too
    r = s.post(base + "/v1/suggest", data="not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = s.post(
        base + "/v1/suggest", data=b"{" + b" " * (3 * 1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    fb = {
        "complaint_id": "e2e-1",
        "text": ROAD,
        "suggested": top["suggestions"],
        "chosen_agency": top["suggestions"][0]["agency"],
        "action": "accepted",
        "admin": "ani",
        "model_version": top["model_version"],
    }
    assert s.post(base + "/v1/feedback", json=fb).status_code == 401
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Idempotency-Key": "e2e-key"}
    assert s.post(base + "/v1/feedback", json=fb, headers=headers).status_code == 201
    assert s.post(base + "/v1/feedback", json=fb, headers=headers).status_code == 200
    assert s.get(base + "/v1/stats").json()["total"]["n"] == 1

    # hot reload: keep requests flowing while `current` is repointed; none may fail
    failures: list[str] = []
    versions: set[str] = set()
    stop = threading.Event()

    def load():
        with requests.Session() as ls:
            while not stop.is_set():
                try:
                    resp = ls.post(base + "/v1/suggest", json={"text": ROAD}, timeout=10)
                    if resp.status_code != 200:
                        failures.append(f"{resp.status_code} {resp.text[:200]}")
                    else:
                        versions.add(resp.json()["model_version"])
                except requests.RequestException as exc:
                    failures.append(repr(exc))

    workers = [threading.Thread(target=load) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        time.sleep(0.5)
        point(models, "current", b)
        # every worker process switches on its own; new connections reach each of them
        deadline = time.monotonic() + 60
        seen: dict[int, str] = {}
        while len(seen) < WORKERS or set(seen.values()) != {"version-b"}:
            assert time.monotonic() < deadline, f"not every worker switched: {seen}\n{server.log()}"
            ready = requests.get(base + "/readyz", timeout=10).json()
            seen[ready["worker_pid"]] = ready["model_version"]
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    assert not failures, failures[:5]
    assert versions == {"version-a", "version-b"}
    assert s.get(base + "/readyz").json()["model_version"] == "version-b"
    log = server.log()
    assert "Jelekong" not in log  # complaint text never reaches the log
    assert "Traceback" not in log


def _serve(tmp_path, *args) -> subprocess.CompletedProcess:
    from svc_helpers import disposisi_cmd

    return subprocess.run(
        [*disposisi_cmd(), "serve", *args, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
        env={"DISPOSISI_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"},
    )


def test_serve_refuses_a_missing_model(tmp_path):
    r = _serve(tmp_path, "--model", str(tmp_path / "nope"))
    assert r.returncode == 2 and "error" in r.stderr and "Traceback" not in r.stderr


def test_serve_refuses_a_changed_model_before_starting_workers(demo_model_dir, tmp_path):
    model = copy_model(demo_model_dir, tmp_path / "changed")
    with open(model / "served.npz", "ab") as fh:  # the file the service loads
        fh.write(b"\0")
    r = _serve(tmp_path, "--model", str(model))
    assert r.returncode == 2 and "does not match its card" in r.stderr, r.stderr
    assert "Booting worker" not in r.stderr + r.stdout and "Traceback" not in r.stderr


def test_serve_refuses_zero_workers(demo_model_dir, tmp_path):
    r = _serve(tmp_path, "--model", str(demo_model_dir), "--workers", "0")
    assert r.returncode == 2 and "--workers must be at least 1" in r.stderr
