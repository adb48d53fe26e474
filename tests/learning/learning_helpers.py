"""Paths, small data sets and helpers for the learning-loop tests (a plain module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DEMO_CSV = ROOT / "data" / "demo" / "demo_complaints.csv"
REGISTRY_CSV = ROOT / "routing_model" / "resources" / "registries" / "kab_bandung.csv"
DISPOSISI = Path(sys.executable).parent / "disposisi"

PERIKANAN = "Dinas Perikanan dan Peternakan Kab. Bandung"  # not in the demo data: only in "new" data
DISHUB = "Dinas Perhubungan Kab. Bandung"
DISHUB_NEW = "Dinas Transportasi Kab. Bandung"
CIWIDEY = "Kecamatan Ciwidey"
PUTR = "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung"
DINSOS = "Dinas Sosial Kabupaten Bandung"
DISDUKCAPIL = "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung"

# Fictional complaints for an agency the demo data never names (written for these tests).
PERIKANAN_TEXTS = [
    "Banyak sapi warga di kampung kami terkena penyakit mulut dan kuku, mohon vaksinasi ternak segera oleh petugas peternakan.",
    "Ikan di kolam budidaya warga mati mendadak, mohon penyuluh perikanan memeriksa kualitas air kolam ikan.",
    "Harga pakan ikan lele naik terus, pembudidaya ikan minta bantuan benih ikan dan pakan dari dinas perikanan.",
    "Ayam ternak warga banyak yang mati mendadak, mohon pemeriksaan kesehatan hewan ternak oleh dokter hewan.",
    "Pemotongan hewan kurban tidak diperiksa dokter hewan, mohon pengawasan daging dan rumah potong hewan.",
    "Bantuan bibit ikan nila untuk kelompok pembudidaya ikan belum disalurkan, mohon kejelasan dinas perikanan dan peternakan.",
    "Kambing dan domba warga terserang penyakit kulit, peternak butuh obat dan vaksin ternak dari puskeswan.",
    "Kolam ikan mas milik kelompok pembudidaya tercemar, ikan banyak mati, mohon penyuluhan budidaya ikan.",
]
PERIKANAN_QUERY = (
    "Sapi dan domba peternak di desa kami sakit, mohon dokter hewan datang memeriksa ternak dan memberi vaksin."
)


def demo() -> pd.DataFrame:
    return pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)


def write_datasets(directory: Path) -> dict[str, Path]:
    """base.csv (demo rows before 2023-10), new.csv (2023-10..12 + a new agency), feedback.csv (2024-01 rows)."""
    frame = demo()
    base = frame[frame["date"] < "2023-10-01"]
    new = frame[(frame["date"] >= "2023-10-01") & (frame["date"] < "2024-01-01")]
    extra = pd.DataFrame(
        {
            "id": [f"NEW-{i}" for i in range(len(PERIKANAN_TEXTS))],
            "date": [f"2023-12-{10 + i:02d}" for i in range(len(PERIKANAN_TEXTS))],
            "text": PERIKANAN_TEXTS,
            "agency": [PERIKANAN] * len(PERIKANAN_TEXTS),
        }
    )
    new = pd.concat([new, extra], ignore_index=True)
    paths = {"base": directory / "base.csv", "new": directory / "new.csv", "feedback": directory / "feedback.csv"}
    base.to_csv(paths["base"], index=False)
    new.to_csv(paths["new"], index=False)
    feedback_frame(frame).to_csv(paths["feedback"], index=False)
    return paths


def feedback_frame(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Feedback rows on demo complaints of Jan-Feb 2024, covering every action and a conflict."""
    frame = demo() if frame is None else frame
    jan = frame[(frame["date"] >= "2024-01-01") & (frame["date"] < "2024-03-01")].head(14).reset_index(drop=True)
    rows = []
    for i, r in jan.iterrows():
        rows.append(
            {
                "id": i + 1,
                "complaint_id": r["id"],
                "text": r["text"],
                "confidential": False,
                "suggested": f'["{r["agency"]}", "{PUTR}"]' if i % 3 else f'["{PUTR}", "{r["agency"]}"]',
                "chosen_agency": r["agency"],
                "action": "accepted" if i % 3 else "corrected",
                "admin": "admin1",
                "model_version": "v1" if i < 7 else "v2",
                "needs_review": bool(i % 2),
                "created_at": f"2024-02-{i + 1:02d}T10:00:00+00:00",
            }
        )
    n = len(rows)
    # a confidential decision (no text), an archived one, a not_our_authority signal
    rows.append(
        dict(
            rows[0], id=n + 1, complaint_id="CONF-1", text="", confidential=True, created_at="2024-02-20T10:00:00+00:00"
        )
    )
    rows.append(
        dict(rows[1], id=n + 2, complaint_id="ARCH-1", action="archived", created_at="2024-02-21T10:00:00+00:00")
    )
    rows.append(
        dict(
            rows[2],
            id=n + 3,
            complaint_id="NOA-1",
            text=PERIKANAN_QUERY + " Ini soal ternak.",
            chosen_agency=DINSOS,
            suggested=f'["{DINSOS}"]',
            action="not_our_authority",
            created_at="2024-02-22T10:00:00+00:00",
        )
    )
    # the same complaint decided twice, differently: the later decision wins (a conflict is reported)
    rows.append(
        dict(rows[3], id=n + 4, chosen_agency=DINSOS, action="corrected", created_at="2024-02-25T10:00:00+00:00")
    )
    return pd.DataFrame(rows)


def run_cli(*args, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(DISPOSISI), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def tree_snapshot(path: Path) -> dict:
    """Every file under path (and symlink targets) with size and mtime: to prove nothing changed."""
    out = {}
    if not path.exists():
        return out
    for p in sorted(path.rglob("*")):
        if p.is_symlink():
            out[str(p)] = ("link", str(p.readlink()))
        elif p.is_file():
            st = p.stat()
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def kill_at_stage(args, env: dict, job_rows, stage: str, timeout: float = 600) -> None:
    """Start ``disposisi ARGS`` and ``kill -9`` it as soon as one of its jobs (``job_rows()``) is running at
    progress ``stage``: what a crash mid-training or mid-promotion leaves."""
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [str(DISPOSISI), *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while not any(r["state"] == "running" and (r["progress"] or {}).get("stage") == stage for r in job_rows()):
            assert proc.poll() is None, f"disposisi {args[0]} ended ({proc.returncode}) before reaching {stage}"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def deployment_env(var: Path) -> dict:
    """The environment of a `disposisi` command on the deployment in ``var``: the test clock, no schedule (only the
    commands the test runs train)."""
    import os

    from clock_helpers import TEST_NOW

    return {
        **os.environ,
        "DISPOSISI_DATA_DIR": str(var),
        "DISPOSISI_PROGRESS": "0",
        "DISPOSISI_CLOCK_START": TEST_NOW,
        "DISPOSISI_LEARN_SCHEDULE": "0",
    }


def run_deployment(*args, var: Path | None = None) -> subprocess.CompletedProcess:
    """`disposisi ARGS` on the deployment in ``var`` (None: this process's environment), waited for."""
    env = deployment_env(var) if var is not None else None
    return subprocess.run(
        [str(DISPOSISI), *map(str, args)], capture_output=True, text=True, timeout=900, cwd=ROOT, env=env
    )


def job_rows(url: str) -> list[dict]:
    """Every row of the jobs table, oldest first."""
    import sqlalchemy as sa

    from service.db import jobs

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(jobs).order_by(jobs.c.id))]
    engine.dispose()
    return rows
