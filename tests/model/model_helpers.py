"""Paths and helpers shared by the model tests (imported as a plain module, like svc_helpers)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
LAPOR_CSV = SHARED / "lapor" / "kab_bandung_2021_2023.csv"
LAPOR_XLSX = SHARED / "lapor" / "kab_bandung_2021_2023_laporan_ringkas.xlsx"
KAI_CSV = SHARED / "kai121" / "kai121_tweets.csv"
DEMO_CSV = ROOT / "data" / "demo" / "demo_complaints.csv"
DEMO_README = ROOT / "data" / "demo" / "README.md"
REGISTRY_CSV = ROOT / "routing_model" / "resources" / "registries" / "kab_bandung.csv"
DISPOSISI = Path(sys.executable).parent / "disposisi"

DISDUKCAPIL = "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung"
PUTR = "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung"
BALEENDAH = "Kecamatan Baleendah"


def run_cli(*args, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the installed `disposisi` console script with text output captured."""
    return subprocess.run([str(DISPOSISI), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def vocabularies(routing_model) -> dict[str, dict]:
    """The word and char TF-IDF vocabularies of a fitted RoutingModel or AgencyClassifier (its plain views)."""
    from routing_model.model.predict.predictor import TextView

    clf = getattr(routing_model, "classifier_", routing_model)
    return {view.name: view.terms.vocabulary_ for view in clf.views_ if isinstance(view, TextView)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
