"""The model the gunicorn master preloads for its workers: handed over, refreshed, never stale.

In-process; the real server (memory per worker, hot reload with preloading) is in
test_service_memory and test_service_e2e.
"""

from __future__ import annotations

import gc

from svc_helpers import copy_model, two_versions

from routing_model.artifact.store import point


def test_a_worker_forked_after_a_promotion_serves_the_promoted_model_at_once(demo_model_dir, tmp_path):
    """The master's model is only a start: a worker born after `promote` must not serve the older one."""
    from routing_model.artifact import persistence
    from service.state import ModelHolder

    models, a, b = two_versions(demo_model_dir, tmp_path)
    preloaded = persistence.load(a)
    point(models, "current", b)
    holder = ModelHolder(model=preloaded, model_dir=a.resolve(), models_dir=models)
    assert holder.model.version == "version-b" and holder.model_dir == b.resolve()


def test_a_worker_keeps_the_preloaded_model_while_current_is_unchanged(demo_model_dir, tmp_path):
    from routing_model.artifact import persistence
    from service.state import ModelHolder

    models, a, _ = two_versions(demo_model_dir, tmp_path)
    preloaded = persistence.load(a)
    holder = ModelHolder(model=preloaded, model_dir=a.resolve(), models_dir=models)
    assert holder.model is preloaded  # the very object the master loaded: its pages stay shared


def test_app_built_on_a_preloaded_model_follows_current(demo_model_dir, tmp_path):
    from service import create_app
    from service.db import default_sqlite_url, upgrade
    from service.preload import PreloadedModel

    models, _, b = two_versions(demo_model_dir, tmp_path)
    cfg = {"MODELS_DIR": str(models), "DATA_DIR": str(tmp_path / "var"), "RELOAD_INTERVAL": 0.1}
    preloaded = PreloadedModel(cfg)
    upgrade(default_sqlite_url(tmp_path / "var"))
    app = create_app({**cfg, **preloaded.app_config()})
    try:
        state = app.extensions["disposisi"]
        assert state.model is preloaded.model and state.model.version == "version-a"
        point(models, "current", b)
        assert state.models.check_reload() is True and state.model.version == "version-b"
        assert (
            app.test_client()
            .post("/v1/suggest", json={"text": "jalan rusak di desa jelekong"})
            .get_json()["model_version"]
            == "version-b"
        )
    finally:
        app.extensions["disposisi"].close()


def test_refresh_loads_a_moved_current_and_keeps_the_old_model_if_the_new_one_is_broken(demo_model_dir, tmp_path):
    from service.preload import PreloadedModel

    models, _, b = two_versions(demo_model_dir, tmp_path)
    broken = copy_model(demo_model_dir, models / "broken", version="broken")
    with open(broken / "served.npz", "ab") as fh:  # the file the service loads
        fh.write(b"tampered")
    preloaded = PreloadedModel({"MODELS_DIR": str(models)})
    assert preloaded.refresh() is False
    point(models, "current", broken)
    assert preloaded.refresh() is False and preloaded.model.version == "version-a"
    point(models, "current", b)
    assert preloaded.refresh() is True
    assert preloaded.model.version == "version-b" and preloaded.app_config()["MODEL_FROM"] == str(b.resolve())


def test_freeze_before_fork_moves_every_object_out_of_the_collectors_reach():
    from service.preload import freeze_before_fork

    try:
        freeze_before_fork()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_master_of_a_deployment_opens_its_bases_once_for_every_worker(deployment):
    """`serve` without --model: the master verifies and maps the deployment's base and warms up the per-process
    tables with a region's model; a worker's app loads its regions' heads on that very base."""
    from service import create_app
    from service.config import load_config
    from service.preload import PreloadedModel

    data_dir, _ = deployment
    preloaded = PreloadedModel(load_config({"DEPLOYMENT": True, "DATA_DIR": str(data_dir)}))
    assert preloaded.model is None and len(preloaded.bases.opened) == 1
    (base,) = preloaded.bases.opened.values()
    app = create_app({"DEPLOYMENT": True, "DATA_DIR": str(data_dir), **preloaded.app_config()})
    try:
        region_models = app.extensions["disposisi"].region_models
        assert region_models.bases is preloaded.bases
        model = region_models.model("kota-samarinda")
        assert model.card_["base_digest"] == base.digest and len(preloaded.bases.opened) == 1
    finally:
        app.extensions["disposisi"].close()


def test_a_deployment_without_regions_yet_preloads_nothing_and_serves_later_ones(tmp_path):
    from service.config import load_config
    from service.preload import PreloadedModel

    preloaded = PreloadedModel(load_config({"DEPLOYMENT": True, "DATA_DIR": str(tmp_path / "empty")}))
    assert preloaded.bases.opened == {} and preloaded.app_config() == {"BASES": preloaded.bases}
