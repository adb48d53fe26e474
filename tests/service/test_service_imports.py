"""A serving process imports neither scikit-learn, skops nor pandas (~150 MB in every worker):
it predicts from the served form of the model, and pandas waits until someone uploads or exports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: what `disposisi serve`'s master imports and builds before it forks
# (the CLI, service.preload), then one suggestion through the app. Prints the heavy packages loaded and,
# for a failure message, the modules that imported them.
CHECK = """
import builtins, json, sys

HEAVY = ("pandas", "sklearn", "skops")
importers, real_import = {}, builtins.__import__


def traced(name, globals=None, *args, **kwargs):
    top, importer = name.partition(".")[0], (globals or {}).get("__name__", "?")
    if top in HEAVY and top not in sys.modules and not importer.startswith(HEAVY + ("importlib",)):
        importers.setdefault(top, importer)
    return real_import(name, globals, *args, **kwargs)


builtins.__import__ = traced
from service.cli.main import build_parser
from service import create_app, preload
from service.db import default_sqlite_url, upgrade

build_parser()  # `disposisi serve` builds every command's options first

master = preload.PreloadedModel({"MODEL_DIR": sys.argv[1]})  # loads, verifies and warms the model
upgrade(default_sqlite_url(sys.argv[2]))  # what `disposisi serve` does in the master
app = create_app({"DATA_DIR": sys.argv[2], **master.app_config()})
answer = app.test_client().post("/v1/suggest", json={"text": "jalan rusak parah di desa jelekong mohon diperbaiki"})
print(json.dumps({"status": answer.status_code, "loaded": sorted(m for m in HEAVY if m in sys.modules), "importers": importers}))
"""


def test_a_serving_process_imports_neither_scikit_learn_skops_nor_pandas(demo_model_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(demo_model_dir), str(tmp_path / "var")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] == 200, report
    assert report["loaded"] == [], report
