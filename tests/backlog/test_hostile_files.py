"""Hostile and broken files, and one reader for every command.

A bad row is a counted reject with its reason and the job goes on; a sheet's declared dimension
is not trusted; JSON nesting, line and cell sizes are bounded. The same file gives the same rows,
columns and dates to `train` (and evaluate/select), `retrain` and `classify`.
"""

from __future__ import annotations

import csv
import json
import time
import zipfile
from collections import Counter

import openpyxl
import pytest
from backlog_helpers import read_csv_rows, run_cli

from routing_model import Registry
from routing_model.io.tabular import (
    MAX_CELL_CHARS,
    MAX_JSON_DEPTH,
    MAX_RECORD_CHARS,
    normalise_date,
    open_source,
    read_table,
)
from service.batch import Options, run_backlog

GOOD = "Jalan di Desa Jelekong rusak parah, banyak lubang. Mohon segera diperbaiki"
GOOD2 = "e-KTP saya sudah 3 bulan blm jadi, kata petugas blanko habis, tolong dibantu"
PUTR = "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung"
DUKCAPIL = "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung"


def classify(model_dir, inp, out, **kw):
    return run_backlog(Options(model=str(model_dir), input=str(inp), output=str(out), jobs=1, quiet=True, **kw))


def rejects(out) -> dict[str, str]:
    return {r["row"]: r["reason"] for r in read_csv_rows(str(out) + ".rejects.csv")}


# -- hostile rows -------------------------------------------------------------------------------
def test_jsonl_nested_3000_deep_is_a_rejected_row(model_dir, tmp_path):
    inp = tmp_path / "deep.jsonl"
    deep = '{"id": "D2", "text": ' + "[" * 3000 + "]" * 3000 + "}"
    lines = [
        json.dumps({"id": "D1", "text": GOOD}),
        deep,
        json.dumps({"id": "D3", "text": "\x00"}),
        json.dumps({"id": "D4", "text": "\x01\x02\x7f\u200b"}),
        json.dumps({"id": "D5", "text": GOOD2}),
    ]
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    s = classify(model_dir, inp, out)
    assert [r["id"] for r in read_csv_rows(out)] == ["D1", "D5"]
    assert rejects(out) == {"2": "too_deep", "3": "no_visible_text", "4": "no_visible_text"}
    assert s["read"] == 5 and s["ok"]


def test_jsonl_deep_row_is_counted_by_train_reader(tmp_path, registry):
    from training.labeled_data import prepare_labeled

    inp = tmp_path / "train.jsonl"
    rows = [{"text": GOOD, "agency": PUTR, "date": f"2023-01-0{i % 9 + 1}"} for i in range(5)]
    lines = [json.dumps(r) for r in rows]
    lines.insert(2, '{"text": ' + "{" * 3000)
    lines.insert(3, "\x00")
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_table(inp)
    assert len(frame) == 5 and frame.attrs["reader_rejects"] == {"too_deep": 1, "invalid_json": 1}
    report = prepare_labeled(frame, registry).report()
    assert report["rows_read"] == 7 and report["skipped"]["too_deep"] == 1


def test_overlong_line_and_cell_are_rejected_not_read(model_dir, tmp_path):
    inp = tmp_path / "long.csv"
    with open(inp, "w", newline="", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.write(f'L1,"{GOOD}"\n')
        fh.write("L2," + "x" * (MAX_RECORD_CHARS + 50) + "\n")  # a line over the bound, no quotes
        fh.write(f'L3,"{GOOD2}"\n')
        fh.write('L4,"' + "kata " * (MAX_CELL_CHARS // 5 + 10) + '"\n')  # a cell over the bound
        fh.write(f'L5,"{GOOD}"\n')
    out = tmp_path / "out.csv"
    s = classify(model_dir, inp, out)
    assert [r["id"] for r in read_csv_rows(out)] == ["L1", "L3", "L5"]
    assert rejects(out) == {"3": "line_too_long", "5": "cell_too_long"}
    assert s["ok"]


def _xlsx_with_declared_dimension(path, rows_at: dict[int, list], dimension: str) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row, values in rows_at.items():
        for col, v in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=v)
    wb.save(path)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                start = text.index('<dimension ref="') + len('<dimension ref="')
                end = text.index('"', start)
                data = (text[:start] + dimension + text[end:]).encode("utf-8")
            zout.writestr(item, data)
    tmp.replace(path)


def test_xlsx_declaring_the_whole_sheet_does_not_stall(model_dir, tmp_path):
    path = tmp_path / "huge_dimension.xlsx"
    _xlsx_with_declared_dimension(path, {1: ["id", "text", "agency"], 1_048_576: ["X1", GOOD, PUTR]}, "A1:XFD1048576")
    assert path.stat().st_size < 10_000
    with zipfile.ZipFile(path) as z:
        assert b'ref="A1:XFD1048576"' in z.read("xl/worksheets/sheet1.xml")
    started = time.monotonic()
    out = tmp_path / "out.csv"
    s = classify(model_dir, path, out)
    frame = read_table(path)
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"{elapsed:.1f} s"
    assert s["read"] == 1 and s["classified"] == 1
    assert read_csv_rows(out)[0]["id"] == "X1"
    assert list(frame.index) == [1_048_576] and frame.iloc[0]["text"] == GOOD


@pytest.mark.slow
def test_100000_rows_with_one_broken_row(model_dir, tmp_path):
    inp = tmp_path / "big.csv"
    with open(inp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(100_000):
            if i == 54_321:
                fh.write(f'R{i},"{GOOD} tanpa tanda kutip penutup\n')  # broken quoting, one line
                continue
            w.writerow([f"R{i}", GOOD if i % 2 else GOOD2])
    out = tmp_path / "big_out.csv"
    proc = run_cli("classify", "--model", model_dir, "--input", inp, "--output", out, "--jobs", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert rejects(out) == {str(54_321 + 2): "broken_quoting"}
    with open(out, newline="", encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 1 + 99_999
    frame = read_table(inp)  # the training reader counts the same reject
    assert len(frame) == 99_999 and frame.attrs["reader_rejects"] == {"broken_quoting": 1}


# -- one reader ---------------------------------------------------------------------------------
ROWS = [
    ("T-1", "5 Januari 2021", GOOD, PUTR),
    ("T-2", "29 May 2023", GOOD2, DUKCAPIL),
    ("T-3", "2022-03-04", "Lampu PJU di jalan raya Soreang mati sudah seminggu, gelap sekali", PUTR),
    ("T-4", "07/08/2022", "Pembuatan akta kelahiran anak saya tidak selesai selesai di kantor dinas", DUKCAPIL),
]
ISO = ["2021-01-05", "2023-05-29", "2022-03-04", "2022-08-07"]
LAPOR_HEADER = ["Tracking ID", "Tanggal Laporan Masuk", "Judul Laporan", "Isi Laporan Awal", "Instansi Terdisposisi"]


@pytest.fixture(scope="module")
def same_table(tmp_path_factory):
    """The same four complaints as a CSV (Windows-1252, semicolons), JSON Lines and a LAPOR! export."""
    d = tmp_path_factory.mktemp("same")
    csv_path = d / "t.csv"
    with open(csv_path, "w", newline="", encoding="cp1252") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Tracking ID", "tanggal", "text", "agency"])
        for tid, date, text, agency in ROWS:
            w.writerow([tid, date, text, agency])
    jsonl = d / "t.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"id": t, "date": dt, "text": x, "agency": a}) + "\n" for t, dt, x, a in ROWS),
        encoding="utf-8",
    )
    xlsx = d / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Judul Laporan", "Laporan Ringkas"])
    ws.append([])
    ws.append(["Nama Instansi", "Pemerintah Kabupaten Bandung"])
    ws.append(LAPOR_HEADER)
    for tid, date, text, agency in ROWS:
        ws.append([tid, date, "judul", text, agency])
    wb.save(xlsx)
    return {"csv": (csv_path, "tanggal", 2), "jsonl": (jsonl, "date", 1), "xlsx": (xlsx, "date", 5)}


def test_same_rows_columns_and_dates_through_every_command(same_table, registry: Registry):
    from training.learning.retrain import read_new_data
    from training.train import load_labeled

    seen = {}
    for kind, (path, date_column, first_row) in same_table.items():
        # train, evaluate and select
        data = load_labeled(path, registry, date_column=date_column)
        assert data.frame["date"].tolist() == ISO, kind
        assert data.frame["text"].tolist() == [r[2] for r in ROWS], kind
        assert data.frame["row"].tolist() == list(range(first_row, first_row + 4)), kind
        # retrain's new data
        rows, report = read_new_data(path, registry) if kind != "csv" else _retrain_csv(path, registry)
        assert [normalise_date(d) for d in rows["date"]] == ISO and rows["text"].tolist() == [r[2] for r in ROWS], kind
        # classify: the file's own columns, same texts, same row numbers
        src = open_source(path)
        records = list(src.records())
        assert [r.row for r in records] == list(range(first_row, first_row + 4)), kind
        assert [r.values[src.text_index] for r in records] == [r[2] for r in ROWS], kind
        assert [r.values[src.id_index] for r in records] == [r[0] for r in ROWS], kind
        date_index = src.columns.index("Tanggal Laporan Masuk" if kind == "xlsx" else date_column)
        dates = [r.values[date_index] for r in records]
        assert [normalise_date(x) for x in dates] == ISO, kind
        seen[kind] = data.sha256()
    assert len(set(seen.values())) == 1, seen  # the very same training rows from all three formats
    assert open_source(same_table["xlsx"][0]).columns == LAPOR_HEADER  # classify writes them back as they were


def _retrain_csv(path, registry):
    """retrain reads `date`; this CSV names it `tanggal`: rename through the same reader."""
    from training.labeled_data import prepare_labeled
    from training.learning.retrain import _as_training_frame

    frame = read_table(path)
    rows = _as_training_frame(frame, path, "data", date="tanggal")
    return rows, prepare_labeled(rows, registry).report()


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2023-01-05", "2023-01-05"),
        ("2023-01-05 10:11:12", "2023-01-05"),
        ("5 Januari 2021", "2021-01-05"),
        ("29 May 2023", "2023-05-29"),
        ("1 Agt 2022", "2022-08-01"),
        ("07/08/2022", "2022-08-07"),
        ("31-12-2021", "2021-12-31"),
        ("", ""),
        ("kemarin", ""),
        ("2023-02-30", ""),
        (None, ""),
    ],
)
def test_normalise_date(value, expected):
    assert normalise_date(value) == expected


def test_reject_reasons_are_counted_by_reason(model_dir, tmp_path):
    inp = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"id": "M1", "text": GOOD}),
        "[1, 2]",
        "{bad",
        json.dumps({"id": "M4", "text": 5}),
        '{"id": "M5", "text": ' + "[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5) + "}",
    ]
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = classify(model_dir, inp, tmp_path / "o.csv")
    assert Counter(s["reject_reasons"]) == Counter({"invalid_json": 2, "not_text": 1, "too_deep": 1})
    assert s["classified"] == 1 and s["ok"]
