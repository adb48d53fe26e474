"""Input formats and bad rows: every row ends in the output or in the reject file with its row number."""

from __future__ import annotations

import codecs
import csv
import json

import openpyxl
import pytest
from backlog_helpers import LAPOR_XLSX, read_csv_rows, run_cli

from routing_model.io.tabular import TableError, open_source
from routing_model.text.validation import MAX_TEXT_CHARS
from service.batch import Options, run_backlog

GOOD = "Jalan di Desa Jelekong rusak parah, banyak lubang. Mohon segera diperbaiki"
GOOD2 = "e-KTP saya sudah 3 bulan blm jadi, kata petugas blanko habis"


def classify(model_dir, inp, out, **kw):
    opts = Options(model=str(model_dir), input=str(inp), output=str(out), jobs=1, quiet=True, **kw)
    return run_backlog(opts)


def rejects(out):
    return read_csv_rows(str(out) + ".rejects.csv")


def test_bad_rows_are_rejected_with_line_numbers(model_dir, tmp_path):
    inp = tmp_path / "mixed.csv"
    lines = [
        "id,text,note",  # line 1
        f'A1,"{GOOD}",ok',  # 2
        "A2,,empty",  # 3: empty text
        f'A3,"{GOOD2},broken',  # 4: quote never closed
        'A4,"Lampu PJU mati di jalan raya\nSoreang, gelap sekali",multiline',  # 5-6: legit line break
        'A5,=HYPERLINK("http://x") sampah menumpuk di pasar,formula',  # 7
        f"A6,{'jalan rusak ' * (MAX_TEXT_CHARS // 10)},long",  # 8: over the limit
        f'A7,"{GOOD2} café",utf8',  # 9
        "A8,too,many,fields,here",  # 10
    ]
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    data += b"A9,Sampah di pasar \xff\xfe tidak diangkut,badbytes\r\n"  # 11: invalid UTF-8
    data += f'A10,"{GOOD}",last\r\n'.encode()  # 12
    inp.write_bytes(data)
    out = tmp_path / "out.csv"
    s = classify(model_dir, inp, out)
    rows = read_csv_rows(out)
    rej = {r["row"]: r for r in rejects(out)}
    assert [r["id"] for r in rows] == ["A1", "A4", "A5", "A7", "A10"]
    assert {k: v["reason"] for k, v in rej.items()} == {
        "3": "empty_text",
        "4": "broken_quoting",
        "8": "text_too_long",
        "10": "wrong_field_count",
        "11": "undecodable_bytes",
    }
    assert rej["3"]["id"] == "A2" and rej["8"]["id"] == "A6"
    assert s["read"] == 10 == s["classified"] + s["rejected"] and s["ok"]
    assert rows[1]["text"] == "Lampu PJU mati di jalan raya\nSoreang, gelap sekali"
    assert rows[2]["text"].startswith("'=HYPERLINK")  # neutralised for spreadsheets
    assert rows[3]["text"].endswith("café")
    for r in rows:
        assert r["agency_1"] and float(r["score_1"]) > 0 and r["needs_review"] in ("true", "false")
        assert r["model_version"] and r["note"]


def test_windows_1252_bom_tsv_and_semicolon(model_dir, tmp_path):
    text = "Pelayanan di kantor kecamatan lambat – petugas tidak ramah, café di depan kotor"
    cases = {
        "cp1252.csv": ("id,text\r\n" + f'W1,"{text}"\r\nW2,"{GOOD}"\r\n').encode("cp1252"),
        "bom.csv": codecs.BOM_UTF8 + f'id,text\nB1,"{text}"\nB2,"{GOOD}"\n'.encode(),
        "tabs.tsv": f"id\ttext\nT1\t{text}\nT2\t{GOOD}\n".encode(),
        "semi.csv": f'id;text\nS1;{text}\nS2;"{GOOD}; dan gelap"\n'.encode(),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        out = tmp_path / f"{name}.out.csv"
        s = classify(model_dir, tmp_path / name, out)
        rows = read_csv_rows(out)
        assert s["rejected"] == 0 and s["classified"] == 2, name
        assert list(rows[0])[:2] == ["id", "text"], name  # no BOM glued to the first column name
        assert rows[0]["text"] == text, name
    assert open_source(tmp_path / "cp1252.csv").encoding == "cp1252"


def test_jsonl_in_and_out(model_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"ticket": "J1", "tweet": GOOD, "likes": 3}),
        "",
        "{not json",
        json.dumps({"ticket": "J3", "tweet": None}),
        json.dumps({"ticket": "J4", "tweet": GOOD2}),
    ]
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    s = classify(model_dir, inp, out, fmt="jsonl")
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["ticket"] for g in got] == ["J1", "J4"] and got[0]["likes"] == "3"
    assert got[0]["agency_1"] and "score_3" in got[0]
    assert {r["row"]: r["reason"] for r in rejects(out)} == {"3": "invalid_json", "4": "empty_text"}
    assert s["text_column"] == "tweet" and s["read"] == 4


def test_lapor_xlsx_export(model_dir, tmp_path):
    out = tmp_path / "lapor.csv"
    s = classify(model_dir, LAPOR_XLSX, out)
    rows, rej = read_csv_rows(out), rejects(out)
    assert s["source_kind"] == "lapor_xlsx"
    assert s["text_column"] == "Isi Laporan Awal" and s["id_column"] == "Tracking ID"  # the export's own names
    assert s["read"] == 580 == len(rows) + len(rej)
    first = min([int(r["row"]) for r in rej] + [12])
    assert first >= 12  # the header is on row 11
    header = [
        c.value
        for c in next(
            openpyxl.load_workbook(LAPOR_XLSX, read_only=True).worksheets[0].iter_rows(min_row=11, max_row=11)
        )
    ]
    header = [h for h in header if h]
    assert list(rows[0])[: len(header)] == header  # the admin's columns, in the admin's order, suggestions after
    assert list(rows[0])[len(header)] == "agency_1"
    assert (
        rows[0]["Tanggal Laporan Masuk"] == "29 May 2023" and rows[0]["Tracking ID"] == "5216807"
    )  # values as in the file


def test_plain_xlsx_without_text_column_is_a_clear_error(model_dir, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nomor", "Tanggal", "Jumlah"])
    ws.append(["1", "2023-01-01", 5])
    path = tmp_path / "stats.xlsx"
    wb.save(path)
    proc = run_cli("classify", "--model", model_dir, "--input", path, "--output", tmp_path / "o.csv")
    assert proc.returncode == 2
    assert "cannot tell which column holds the complaint text" in proc.stderr
    assert "available columns: Nomor, Tanggal, Jumlah" in proc.stderr


def test_plain_xlsx_with_text_column(model_dir, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["No", "Keluhan"])
    ws.append([1, GOOD])
    ws.append([2, None])
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    s = classify(model_dir, path, tmp_path / "o.csv")
    assert s["text_column"] == "Keluhan" and s["classified"] == 1 and s["rejected"] == 1
    assert rejects(tmp_path / "o.csv")[0]["row"] == "3"


def test_missing_column_lists_available(model_dir, tmp_path):
    inp = tmp_path / "x.csv"
    inp.write_text(f'id,isi_pengaduan\n1,"{GOOD}"\n', encoding="utf-8")
    with pytest.raises(TableError, match="available columns: id, isi_pengaduan"):
        classify(model_dir, inp, tmp_path / "o.csv", text_column="complaint")
    s = classify(model_dir, inp, tmp_path / "o.csv", text_column="isi_pengaduan")
    assert s["classified"] == 1


def test_detects_common_text_column_names():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        for header, expected in [
            ("No,Isi Laporan Awal", "Isi Laporan Awal"),
            ("id,Complaint", "Complaint"),
            ("date,tweet,topic", "tweet"),
            ("nomor,isi", "isi"),
        ]:
            p = Path(d) / "h.csv"
            p.write_text(header + "\n", encoding="utf-8")
            assert open_source(p).text_column == expected


@pytest.mark.slow
def test_cli_summary_and_row_check(model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    with open(inp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(30):
            w.writerow([f"C{i}", "" if i == 4 else (GOOD if i % 2 else GOOD2)])
    out = tmp_path / "out.csv"
    proc = run_cli(
        "classify",
        "--model",
        model_dir,
        "--input",
        inp,
        "--output",
        out,
        "--jobs",
        "2",
        "--chunk-size",
        "7",
        "--progress-every",
        "0",
    )
    assert proc.returncode == 0, proc.stderr
    # not a terminal: plain progress lines on stderr instead of a bar
    assert "classify: 7 rows of ~30 (23%)" in proc.stderr and "rows/s, ETA" in proc.stderr
    assert "rows in 30 == rows out 29 + rows rejected 1  OK" in proc.stdout
    assert "needs review" in proc.stdout and "top agencies" in proc.stdout
    assert [r["id"] for r in read_csv_rows(out)] == [f"C{i}" for i in range(30) if i != 4]
    proc = run_cli(
        "classify", "--model", model_dir, "--input", inp, "--output", tmp_path / "q.csv", "--quiet", "--jobs", "1"
    )
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
