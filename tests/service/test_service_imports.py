"""A serving worker does not import pandas (~40 MB) until someone uploads or exports complaints."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: which of pandas/sklearn the serving modules load, and which modules
# run an `import pandas` (every import statement goes through builtins.__import__, cached or not;
# importlib's own calls only finish a `from pandas import submodule` whose importer is recorded).
CHECK = """
import builtins, json, sys

importers, real_import = set(), builtins.__import__


def traced(name, globals=None, *args):
    importer = (globals or {}).get("__name__", "?")
    if name.partition(".")[0] == "pandas" and not importer.startswith(("pandas", "importlib")):
        importers.add(importer)
    return real_import(name, globals, *args)


builtins.__import__ = traced
import service.api, service.complaints_api, service.desk, service.complaints, service.duplicates

print(json.dumps({"loaded": sorted(m for m in ("pandas", "sklearn") if m in sys.modules),
                  "pandas_importers": sorted(importers)}))
"""


def test_serving_modules_do_not_import_pandas():
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    # scikit-learn imports pandas whenever it is installed (sklearn/utils/fixes.py), and routing_model
    # still imports scikit-learn: until it serves without it, only scikit-learn may have imported pandas
    assert all(m.startswith("sklearn.") for m in report["pandas_importers"]), report
    if "sklearn" not in report["loaded"]:
        assert "pandas" not in report["loaded"], report
