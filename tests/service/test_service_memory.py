"""Memory of each `disposisi serve` worker: under the issue's 200 MB, as RSS and as PSS.

A real server on loopback (two workers), real LAPOR! complaints suggested through every worker,
then each worker's memory is read from /proc (``bench.procmem``). RSS is the issue's figure: it
charges every page the worker can touch, its share with the master included. PSS charges shared
pages in part, so the workers' PSS add up to what they really cost. Both stay under 200 MB
because a worker predicts from the served form of the model (``routing_model.artifact.served``) and
never maps scikit-learn, skops or pandas, which is checked too. ``bench.bench_service`` measures
the same on the model trained on the shared data.
"""

from __future__ import annotations

import csv

import pytest
import requests
from svc_helpers import WORKERS

from bench.procmem import TARGET_MB, children, memory

pytestmark = pytest.mark.slow

SUGGESTIONS = 300  # enough distinct texts that each worker stems, vectorises and looks up places widely


def _texts(shared_data) -> list[str]:
    with open(shared_data / "lapor" / "kab_bandung_2021_2023.csv", newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh) if row["text"].strip()][:SUGGESTIONS]


def _mapped_packages(pid: int) -> set[str]:
    """Top-level site-packages whose files (shared objects) the process has mapped."""
    with open(f"/proc/{pid}/maps", encoding="utf-8") as fh:
        return {line.split("site-packages/", 1)[1].split("/", 1)[0] for line in fh if "site-packages/" in line}


def test_each_worker_stays_under_200_mb_after_suggesting(demo_server, shared_data):
    answered_by: set[int] = set()
    for text in _texts(shared_data):  # a new connection each time: the workers take turns
        resp = requests.post(demo_server.base + "/v1/suggest", json={"text": text}, timeout=10)
        assert resp.status_code == 200 and resp.json()["suggestions"], resp.text
        answered_by.add(requests.get(demo_server.base + "/readyz", timeout=10).json()["worker_pid"])
    workers = children(demo_server.proc.pid)
    assert len(workers) == WORKERS and answered_by == set(workers), (answered_by, workers)
    figures = {pid: memory(pid) for pid in workers}
    print("\n".join(f"worker {pid}: {m.line()}" for pid, m in figures.items()))
    for pid, m in figures.items():
        assert m.rss < TARGET_MB and m.pss < TARGET_MB, f"worker {pid}: {m.line()} (target: < {TARGET_MB} MB)"
        mapped = _mapped_packages(pid)
        assert "numpy" in mapped and not mapped & {"sklearn", "skops", "pandas"}, sorted(mapped)
    assert "Traceback" not in demo_server.log()
