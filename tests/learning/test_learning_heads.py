"""The learning loop of a deployment's region whose model is a head on the shared base (issue 18, parts 1 and 3):
`disposisi learn --region` adapts a challenger from the head's base with the region's decisions, the gate judges
it, and a pass promotes a new head on the same base; a second run is refused, rollback returns to the previous
head, a running server follows the promotion, and a head whose base is gone fails its job, the champion serving.

The base is the learning suite's small model (demo complaints before 2023-10); Kabupaten Bandung is added with the
demo data's agency names, and its admins' decisions are the demo complaints from 2023-10 on, which the base never
saw, so the gate can compare fairly.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import requests
from clock_helpers import RECENT, TEST_NOW
from learning_helpers import demo, deployment_env, job_rows, kill_at_stage, run_deployment

from routing_model.artifact import persistence
from routing_model.artifact.heads import head_dir_files
from routing_model.artifact.store import PREVIOUS, current_model_dir
from service.clock import Clock
from service.db import default_sqlite_url
from service.learn_job import CANDIDATES
from service.store import FeedbackInput, FeedbackStore

pytestmark = pytest.mark.slow

BANDUNG = "kabupaten-bandung"
GONE = "Dinas Yang Sudah Dibubarkan Kab. Bandung"  # an agency the region no longer has
ADMIN, PASSWORD = "adm-bandung", "kata-sandi-uji-2026"
TEXT = "Jalan di Desa Jelekong Kecamatan Baleendah rusak parah dan berlubang, mohon segera diperbaiki"


def _decide(var: Path, model_version: str, gone: int = 3) -> int:
    """Bandung's admin's decisions on the demo complaints from 2023-10 on (``gone`` of them naming GONE)."""
    rows = demo()
    rows = rows[rows["date"] >= "2023-10-01"]
    store = FeedbackStore(default_sqlite_url(var), clock=Clock.starting_at(TEST_NOW))
    try:
        for i, r in enumerate(rows.itertuples()):
            _, created = store.add(
                FeedbackInput(
                    idempotency_key=f"{BANDUNG}-{i}",
                    complaint_id=r.id,
                    text=r.text,
                    suggested=[r.agency],
                    chosen_agency=GONE if i < gone else r.agency,
                    action="accepted" if i % 4 else "corrected",
                    admin=ADMIN,
                    model_version=model_version,
                    region_slug=BANDUNG,
                )
            )
            assert created
    finally:
        store.close()
    return len(rows)


@pytest.fixture(scope="module")
def template(tmp_path_factory, base_model_dir) -> tuple[Path, str]:
    """A deployment with Kabupaten Bandung added from the demo base, its admin's decisions and its admin's API
    token; built once, copied by each test."""
    from service.accounts import AccountStore

    home = tmp_path_factory.mktemp("head_learning")
    names = home / "agencies.txt"
    names.write_text("\n".join(sorted(set(demo()["agency"]))) + "\n", encoding="utf-8")
    var = home / "var"
    added = run_deployment(
        "region", "add", "--region", "Kabupaten Bandung", "--base", base_model_dir, "--agencies", names, var=var
    )
    assert added.returncode == 0, added.stdout + added.stderr
    _decide(var, current_model_dir(var / "regions" / BANDUNG / "models").name)
    store = FeedbackStore(default_sqlite_url(var), clock=Clock.starting_at(TEST_NOW))
    try:
        accounts = AccountStore(store)
        accounts.create(ADMIN, PASSWORD, "admin", ("Kabupaten Bandung",), None)
        token = accounts.issue_token(ADMIN)[1]
    finally:
        store.close()
    return var, token


@pytest.fixture
def deployment(template, tmp_path) -> tuple[Path, Path, str]:
    """A private copy of the template: (DATA_DIR, Bandung's models directory, the admin's token)."""
    source, token = template
    var = tmp_path / "var"
    shutil.copytree(source, var, symlinks=True)
    for leftover in var.glob("disposisi.sqlite3-*"):  # WAL files belong to the template's closed engine
        leftover.unlink()
    return var, var / "regions" / BANDUNG / "models", token


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def test_a_head_region_learns_a_new_head_on_its_base_refuses_a_second_run_and_rolls_back(deployment):
    var, models, _ = deployment
    champion = current_model_dir(models)
    before = persistence.read_card(champion)
    assert before["layout"] == "head"

    first = run_deployment("learn", "--region", "Kabupaten Bandung", var=var)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "PASSED: the challenger is now current" in first.stdout and "skipped: 3 naming agencies" in first.stdout
    new = current_model_dir(models)
    card = persistence.read_card(new)
    assert new != champion and card["layout"] == "head" and card["base_digest"] == before["base_digest"]
    assert card["base_model"]["digest"] == before["base_digest"] and card["parent"]["version"] == champion.name
    assert sorted(os.listdir(new)) == sorted(head_dir_files(card))  # the head's own files, no training data
    assert _size(new) < 5 * 1024 * 1024
    assert card["training_data"]["sources"] == {"feedback": card["training_data"]["rows"]}  # Bandung's only
    assert persistence.load_served(new).version == new.name  # verified on the deployment's base
    (job,) = job_rows(default_sqlite_url(var))
    assert job["state"] == "passed" and job["figures"]["bootstrap"]["top1"]["n"] >= 30
    assert job["figures"]["skipped_unknown_agency"] == 3
    assert not (models / CANDIDATES).exists()

    second = run_deployment(
        "learn", "--region", "Kabupaten Bandung", var=var
    )  # the champion saw all these decisions now
    assert second.returncode == 0, second.stdout + second.stderr
    assert "REFUSED: the champion stays current" in second.stdout and "reason: cannot compare" in second.stdout
    assert current_model_dir(models) == new
    assert [j["state"] for j in job_rows(default_sqlite_url(var))] == ["passed", "refused"]

    back = run_deployment("rollback", "--models-dir", models, "--reason", "test", var=var)
    assert back.returncode == 0, back.stdout + back.stderr
    assert current_model_dir(models) == champion and (models / PREVIOUS).resolve() == new
    assert persistence.load_served(current_model_dir(models)).version == champion.name


def test_a_running_server_switches_the_region_to_the_promoted_head(deployment, tmp_path):
    from service.launch import ServeProcess

    var, models, token = deployment
    champion = current_model_dir(models)
    env = {k: v for k, v in deployment_env(var).items() if k.startswith("DISPOSISI_")}
    url = None
    with ServeProcess(["--workers", "2"], tmp_path / "serve.log", env) as server:
        server.wait_ready()
        url = f"{server.base}/v1/regions/{BANDUNG}/complaints"
        headers = {"Authorization": f"Bearer {token}"}
        counter = iter(range(10_000))

        def served_version() -> str:
            complaint = {"id": f"HL-{next(counter)}", "text": TEXT, "received": f"{RECENT}T09:00:00"}
            posted = requests.post(url, json=[complaint], headers=headers, timeout=60)
            assert posted.status_code == 201, posted.text
            got = requests.get(f"{url}/{complaint['id']}", headers=headers, timeout=30)
            assert got.status_code == 200, got.text
            return got.json()["model_version"]

        assert served_version() == champion.name
        done = run_deployment("learn", "--region", "Kabupaten Bandung", var=var)
        assert done.returncode == 0 and "PASSED" in done.stdout, done.stdout + done.stderr
        new = current_model_dir(models)
        assert new != champion
        deadline, streak = time.monotonic() + 60, 0
        while streak < 6:  # both workers reload the promoted head (each checks `current` every second)
            assert time.monotonic() < deadline, server.log()
            streak = streak + 1 if served_version() == new.name else 0
            time.sleep(0.2)
        assert "Traceback" not in server.log()


def test_a_head_whose_base_was_removed_fails_its_job_naming_the_base_and_the_region_keeps_serving(deployment):
    from service.regions import RegionStore
    from service.state import RegionModels

    var, models, _ = deployment
    champion = current_model_dir(models)
    digest = persistence.read_card(champion)["base_digest"]
    store = FeedbackStore(default_sqlite_url(var), clock=Clock.starting_at(TEST_NOW))
    try:
        served = RegionModels(var, RegionStore(store))
        assert served.model(BANDUNG).version == champion.name  # loaded (its base mapped) before the base goes
        shutil.rmtree(var / "bases" / digest)
        failed = run_deployment("learn", "--region", "Kabupaten Bandung", var=var)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "FAILED: the champion stays current" in failed.stdout
        (job,) = job_rows(default_sqlite_url(var))
        assert job["state"] == "failed" and len(job["reason"].splitlines()) == 1
        assert f"the base {digest}" in job["reason"] and "missing" in job["reason"], job["reason"]
        assert current_model_dir(models) == champion and not (models / CANDIDATES).exists()
        assert served.check_reload() == 0
        assert served.model(BANDUNG).predict_proba([TEXT]).shape[0] == 1  # still serving its champion
    finally:
        store.close()


@pytest.mark.parametrize("stage", ["training", "promoting"])
def test_a_head_learn_job_killed_leaves_a_complete_head_serving_and_reruns(deployment, stage):
    var, models, _ = deployment
    champion = current_model_dir(models)
    kill_at_stage(
        ["learn", "--region", "Kabupaten Bandung"],
        deployment_env(var),
        lambda: job_rows(default_sqlite_url(var)),
        stage,
    )
    serving = current_model_dir(models)  # the champion, or the finished new head: complete either way
    assert persistence.load_served(serving).version == serving.name
    assert persistence.read_card(serving)["layout"] == "head"
    if stage == "training":
        assert serving == champion
    again = run_deployment("learn", "--region", "Kabupaten Bandung", var=var)
    assert again.returncode == 0, again.stdout + again.stderr
    assert ("PASSED" in again.stdout) == (serving == champion)  # a promotion that finished is not repeated
    assert not (models / CANDIDATES).exists()
    assert not [p for p in models.iterdir() if p.name.endswith(".incoming")]


def test_promote_and_rollback_verify_a_head_on_its_base_and_copy_only_its_files(deployment):
    from routing_model import ModelLoadError
    from routing_model.artifact.persistence import verify_model
    from routing_model.artifact.store import CURRENT, point
    from training.learning.promotion import promote, rollback

    var, models, _ = deployment
    champion = current_model_dir(models)
    (champion / "notes.txt").write_text("not part of the model", encoding="utf-8")
    assert verify_model(champion)["layout"] == "head"
    registry = models.parent / "registry.csv"
    other = var / "regions" / "copy" / "models"  # under DATA_DIR: the head's base is found in DATA_DIR/bases
    entry = promote(champion, other, registry_path=registry, by="test")
    assert entry["version"] == champion.name and entry["decision"] == "no current model: first promotion"
    copied = current_model_dir(other)
    assert sorted(os.listdir(copied)) == sorted(head_dir_files(persistence.read_card(copied)))  # not notes.txt
    assert persistence.load_served(copied).version == champion.name

    point(other, PREVIOUS, copied)
    (var / "bases").rename(var / "bases-away")  # every head's base is gone now
    with pytest.raises(ModelLoadError, match="needs base .* which is missing"):
        verify_model(champion)
    with pytest.raises(ModelLoadError, match="needs base"):
        promote(champion, var / "regions" / "third" / "models", registry_path=registry, by="test")
    assert not (var / "regions" / "third" / "models" / CURRENT).exists()
    with pytest.raises(ModelLoadError, match="needs base"):
        rollback(other, by="test")
    assert current_model_dir(other) == copied
