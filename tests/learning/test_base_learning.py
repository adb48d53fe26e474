"""Every region teaches the shared base (issue 18 part 2): `disposisi learn --base` gathers every region's decisions
as function rows, trains a new base, re-derives every region's head on it, judges each with today's gate and
promotes the heads that pass; the new base becomes the deployment's only when it passed overall.

The deployment: Kabupaten Bandung (the demo data's agency names, adapted from the learning suite's small base, which
learnt the demo complaints before 2023-10) whose admin decided the demo complaints from 2023-10 on, and Kabupaten
Luwu Timur (standard registry) with no decisions. Tests run on a real SQLite file and the real console script.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from clock_helpers import TEST_NOW
from learning_helpers import demo, deployment_env, job_rows, kill_at_stage, run_deployment

from routing_model.artifact import persistence
from routing_model.artifact.store import current_model_dir
from service.clock import Clock
from service.db import default_sqlite_url, regions
from service.store import FeedbackInput, FeedbackStore

pytestmark = pytest.mark.slow

BANDUNG, LUWU = "kabupaten-bandung", "kabupaten-luwu-timur"
GONE = "Dinas Yang Sudah Dibubarkan Kab. Bandung"  # an agency the region no longer has
SHARED_WORD, LONE_WORD = "sintrokalu", "mevradox"  # in two of Bandung's decisions / in one
SOCIAL_AID = "Dinas Sosial Kabupaten Bandung"


def _decide(var: Path, wrong_before: str | None = None) -> int:
    """Bandung's admin's decisions on the demo complaints from 2023-10 on, each made on its complaint's date: 3 name
    GONE; two carry SHARED_WORD and one LONE_WORD. ``wrong_before``: decisions dated before it name the social-aid
    agency whatever the complaint (an admin who got the older ones wrong: a challenger learning them is worse on the
    newest, which the comparison holds out)."""
    rows = demo()
    rows = rows[rows["date"] >= "2023-10-01"].reset_index(drop=True)
    store = FeedbackStore(default_sqlite_url(var), clock=Clock.starting_at(TEST_NOW))
    models = var / "regions" / BANDUNG / "models"
    try:
        for i, r in enumerate(rows.itertuples()):
            store.clock = Clock.starting_at(f"{r.date}T10:00:00+07:00")
            text = r.text + (f" {SHARED_WORD}" if i in (5, 9) else f" {LONE_WORD}" if i == 7 else "")
            agency = GONE if i < 3 else r.agency
            if wrong_before and r.date < wrong_before and i >= 3:
                agency = SOCIAL_AID
            store.add(
                FeedbackInput(
                    idempotency_key=f"{BANDUNG}-{i}",
                    complaint_id=r.id,
                    text=text,
                    suggested=[r.agency],
                    chosen_agency=agency,
                    action="accepted" if i % 4 else "corrected",
                    admin="adm-bandung",
                    model_version=current_model_dir(models).name,
                    region_slug=BANDUNG,
                )
            )
    finally:
        store.close()
    return len(rows)


@pytest.fixture(scope="module")
def template(tmp_path_factory, base_model_dir) -> Path:
    home = tmp_path_factory.mktemp("base_learning")
    names = home / "agencies.txt"
    names.write_text("\n".join(sorted(set(demo()["agency"]))) + "\n", encoding="utf-8")
    var = home / "var"
    for args in (
        ("--region", "Kabupaten Bandung", "--base", base_model_dir, "--agencies", names),
        ("--region", "Kabupaten Luwu Timur"),
    ):
        added = run_deployment("region", "add", *args, var=var)
        assert added.returncode == 0, added.stdout + added.stderr
    return var


def _copy(template: Path, tmp_path: Path) -> Path:
    var = tmp_path / "var"
    shutil.copytree(template, var, symlinks=True)
    for leftover in var.glob("disposisi.sqlite3-*"):
        leftover.unlink()
    return var


@pytest.fixture
def deployment(template, tmp_path) -> Path:
    var = _copy(template, tmp_path)
    _decide(var)
    return var


def _bases(var: Path) -> set[str]:
    return {p.name for p in (var / "bases").iterdir() if not p.name.startswith(".")}


def _models(var: Path, slug: str) -> Path:
    return var / "regions" / slug / "models"


def _files_hold(directory: Path, word: str) -> bool:
    """Whether any file under ``directory`` holds ``word``: as UTF-8 (JSON, skops) or UTF-32 (numpy str arrays),
    inside zip members too (``model.skops`` is deflated)."""
    forms = (word.encode("utf-8"), word.encode("utf-32-le"))
    for path in (p for p in directory.rglob("*") if p.is_file()):
        bodies = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                bodies += [archive.read(name) for name in archive.namelist()]
        if any(form in body for form in forms for body in bodies):
            return True
    return False


def test_learn_base_teaches_the_base_and_moves_every_region_onto_it(deployment):
    from bench.quality_regions import vocabulary_rule
    from routing_model.artifact.bases import Bases
    from routing_model.artifact.split import open_for_adapt, training_model
    from service.bases import deployment_base

    var = deployment
    old_base = deployment_base(var)[0]
    champions = {s: current_model_dir(_models(var, s)) for s in (BANDUNG, LUWU)}

    done = run_deployment("learn", "--base", var=var)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED: the new base is the deployment's base" in done.stdout, done.stdout
    assert "skipped 3 naming agencies it no longer has" in done.stdout
    (job,) = job_rows(default_sqlite_url(var))
    assert job["kind"] == "base" and job["state"] == "passed", job
    new_base = job["figures"]["new_base"]
    assert new_base != old_base and _bases(var) == {old_base, new_base}  # the old one stays while a head names it
    assert deployment_base(var)[0] == new_base  # regions added later are adapted from it
    assert job["figures"]["function_rows"][BANDUNG]["skipped_unknown_agency"] == 3
    assert job["figures"]["regions"][BANDUNG]["state"] == "passed"
    assert job["figures"]["regions"][BANDUNG]["bootstrap"]["top1"]["n"] >= 5

    opened = Bases()
    for slug in (BANDUNG, LUWU):
        head = current_model_dir(_models(var, slug))
        card = persistence.read_card(head)
        assert head != champions[slug] and card["base_digest"] == new_base
        served = persistence.load_served(head, var / "bases" / new_base, opened)  # a real load on the new base
        assert served.version == head.name and served.predict_proba(["Jalan rusak berlubang"]).shape[0] == 1
    log = [json.loads(line) for line in (_models(var, LUWU) / "promotions.jsonl").read_text().splitlines()]
    assert log[-1]["forced"] is True and "no decisions of its own to judge on" in log[-1]["reason"]
    engine = sa.create_engine(default_sqlite_url(var))
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(regions.c.base_digest)).scalars()) == {new_base}
    engine.dispose()

    # the vocabulary rule holds on the new base: a term of two complaints enters, a term of one never does
    base = training_model(open_for_adapt(var / "bases" / new_base))
    words = next(v for v in base.classifier_.views_ if v.name == "words").terms.vocabulary_
    assert SHARED_WORD in words and _files_hold(var / "bases" / new_base, SHARED_WORD)  # the search finds words
    assert not _files_hold(var / "bases" / new_base, LONE_WORD)  # one complaint's word: in no shared file
    decided = demo()
    texts = (
        decided[decided["date"] < "2023-10-01"]["text"].tolist()
        + [t + f" {SHARED_WORD}" for t in decided[decided["date"] >= "2023-10-01"]["text"].tolist()[5:10:4]]
        + decided[decided["date"] >= "2023-10-01"]["text"].tolist()
    )
    rule = vocabulary_rule(base, texts)
    assert all(v["with_digit"] == 0 for v in rule.values()), rule
    # Bandung's words are in the shared base, never in Luwu Timur's head
    assert not _files_hold(current_model_dir(_models(var, LUWU)), SHARED_WORD)

    listed = run_deployment("jobs", var=var)
    assert listed.returncode == 0 and "(the shared base)  base  passed" in listed.stdout, listed.stdout

    # again, with no new decision: the same base; Bandung's head saw every decision, so nothing can judge it
    heads = {s: current_model_dir(_models(var, s)) for s in (BANDUNG, LUWU)}
    again = run_deployment("learn", "--base", var=var)
    assert again.returncode == 0 and "REFUSED: the deployment keeps its base" in again.stdout, again.stdout
    second = job_rows(default_sqlite_url(var))[-1]
    assert second["figures"]["new_base"] == new_base and second["figures"]["regions"][BANDUNG]["state"] == "kept"
    assert "cannot compare the models fairly" in second["figures"]["regions"][BANDUNG]["reason"]
    assert {s: current_model_dir(_models(var, s)) for s in (BANDUNG, LUWU)} == heads
    assert _bases(var) == {old_base, new_base} and deployment_base(var)[0] == new_base


def test_a_region_the_gate_refuses_keeps_its_champion_and_the_base_is_not_adopted(template, tmp_path):
    from service.bases import deployment_base

    var = _copy(template, tmp_path)
    dates = sorted(demo().query("date >= '2023-10-01'")["date"])
    _decide(var, wrong_before=dates[int(0.8 * len(dates))])  # the older decisions are wrong; the held-out newest right
    old_base = deployment_base(var)[0]
    champions = {s: current_model_dir(_models(var, s)) for s in (BANDUNG, LUWU)}
    done = run_deployment("learn", "--base", var=var)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "REFUSED: the deployment keeps its base" in done.stdout, done.stdout
    (job,) = job_rows(default_sqlite_url(var))
    result = job["figures"]["regions"][BANDUNG]
    assert job["state"] == "refused" and result["state"] == "refused", job
    assert "worse than the current model" in result["reason"] and result["bootstrap"]["top1"]["diff"] < 0
    assert job["figures"]["regions"][LUWU]["state"] == "kept"
    assert {s: current_model_dir(_models(var, s)) for s in (BANDUNG, LUWU)} == champions
    assert _bases(var) == {old_base} and deployment_base(var)[0] == old_base  # no head names it: removed


def test_a_base_job_killed_mid_way_leaves_complete_heads_and_reruns(deployment):
    from service.bases import deployment_base

    var = deployment
    old_base = deployment_base(var)[0]
    kill_at_stage(["learn", "--base"], deployment_env(var), lambda: job_rows(default_sqlite_url(var)), "rederiving")
    assert len(_bases(var)) == 2 and deployment_base(var)[0] == old_base  # written, but not the deployment's
    for slug in (BANDUNG, LUWU):
        head = current_model_dir(_models(var, slug))
        assert persistence.load_served(head).version == head.name  # whichever base it is on, it is complete
    again = run_deployment("learn", "--base", var=var)
    assert again.returncode == 0, again.stdout + again.stderr
    states = [j["state"] for j in job_rows(default_sqlite_url(var))]
    assert states[0] == "failed" and states[-1] in ("passed", "refused")
    assert job_rows(default_sqlite_url(var))[0]["reason"] == "interrupted; rerun"
    for slug in (BANDUNG, LUWU):
        assert not (_models(var, slug) / ".candidates").exists()


def test_a_region_removed_while_the_base_job_runs_is_left_and_the_others_move(deployment):
    from service.base_job import run_base
    from service.jobs import BASE_REGION, JobStore
    from service.learning import job_context
    from service.regions import RegionStore

    var = deployment
    url = default_sqlite_url(var)
    store = FeedbackStore(url, clock=Clock.starting_at(TEST_NOW))
    jobs_store = JobStore(url, Clock.starting_at(TEST_NOW))
    champion = current_model_dir(_models(var, LUWU))
    try:
        job = jobs_store.enqueue(BASE_REGION, "base", requested_by="test")

        def report(progress: dict) -> None:
            if progress.get("stage") == "rederiving" and progress.get("region") == BANDUNG:
                RegionStore(store).remove(LUWU)  # while Bandung is being re-derived

        context = job_context({"DATABASE_URL": url, "DATA_DIR": var, "CLOCK": Clock.starting_at(TEST_NOW)})
        outcome = run_base(context, job, report)
    finally:
        jobs_store.close()
        store.close()
    assert outcome.state == "passed", outcome
    luwu = outcome.figures["regions"][LUWU]
    assert luwu["state"] == "failed" and "was removed while the base job ran" in luwu["reason"], luwu
    assert current_model_dir(_models(var, LUWU)) == champion
    assert outcome.figures["regions"][BANDUNG]["state"] == "passed"


def test_learn_base_user_errors_are_one_line_and_exit_2(tmp_path, deployment):
    empty = run_deployment("learn", "--base", var=tmp_path / "empty")
    assert empty.returncode == 2 and len(empty.stderr.strip().splitlines()) == 1, empty.stderr
    assert "no base model yet" in empty.stderr
    both = run_deployment("learn", "--base", "--region", "Kabupaten Bandung", var=deployment)
    assert both.returncode == 2 and "without --region" in both.stderr and len(both.stderr.strip().splitlines()) == 1
    assert job_rows(default_sqlite_url(deployment)) == []


def test_a_region_does_not_learn_while_the_base_job_moves_it(deployment):
    from service.jobs import BASE_REGION, JobStore

    store = JobStore(default_sqlite_url(deployment), Clock.starting_at(TEST_NOW))
    try:
        base_job = store.enqueue(BASE_REGION, "base", requested_by="test")
        assert store.claim(base_job["id"])
        champion = current_model_dir(_models(deployment, BANDUNG))
        learnt = run_deployment("learn", "--region", "Kabupaten Bandung", var=deployment)
        assert learnt.returncode == 0 and "REFUSED" in learnt.stdout, learnt.stdout + learnt.stderr
        assert f"the base job {base_job['id']} is moving every region" in learnt.stdout
        assert current_model_dir(_models(deployment, BANDUNG)) == champion
        again = run_deployment("learn", "--base", var=deployment)  # one base job at a time
        assert again.returncode == 2 and f"already has job {base_job['id']} (base, running" in again.stderr
    finally:
        store.close()
