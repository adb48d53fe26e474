"""`classify --output`: a real .xlsx or a CSV, the input's own column names in order, never half a file."""

from __future__ import annotations

import openpyxl
import pytest
from backlog_helpers import LAPOR_XLSX, read_csv_rows, run_cli

from service.batch import Options, run_backlog
from service.batch.output_files import OutputError, output_format

SUGGESTION_COLUMNS = [
    "agency_1",
    "score_1",
    "agency_2",
    "score_2",
    "agency_3",
    "score_3",
    "needs_review",
    "outside_region",
    "model_version",
]


def _lapor_header() -> list[str]:
    wb = openpyxl.load_workbook(LAPOR_XLSX, read_only=True)
    try:
        row = next(wb.worksheets[0].iter_rows(min_row=11, max_row=11, values_only=True))
    finally:
        wb.close()
    return [h for h in row if h]


@pytest.mark.slow
def test_lapor_export_to_xlsx_keeps_the_admins_columns(model_dir, tmp_path, shared_data):
    out = tmp_path / "saran.xlsx"
    proc = run_cli("classify", "--model", model_dir, "--input", LAPOR_XLSX, "--output", out, "--jobs", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.tmp"))
    wb = openpyxl.load_workbook(out, read_only=True)  # a real workbook, not CSV bytes named .xlsx
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    header = _lapor_header()
    assert list(rows[0]) == header + SUGGESTION_COLUMNS
    rejected = read_csv_rows(str(out) + ".rejects.csv")
    assert len(rows) - 1 + len(rejected) == 580
    first = dict(zip(rows[0], rows[1]))
    assert first["Tracking ID"] == "5216807" and first["Tanggal Laporan Masuk"] == "29 May 2023"
    assert isinstance(first["score_1"], float) and 0 < first["score_1"] <= 1
    assert first["agency_1"] and first["needs_review"] in ("true", "false")


def test_lapor_export_to_csv_keeps_the_admins_columns(model_dir, tmp_path, shared_data):
    out = tmp_path / "saran.csv"
    s = run_backlog(Options(model=str(model_dir), input=str(LAPOR_XLSX), output=str(out), jobs=1, quiet=True))
    rows = read_csv_rows(out)
    assert list(rows[0]) == _lapor_header() + SUGGESTION_COLUMNS
    assert s["classified"] == len(rows)


@pytest.mark.parametrize(
    "name,fmt,expected",
    [
        ("a.csv", None, "csv"),
        ("a.TSV", None, "csv"),
        ("a.jsonl", None, "jsonl"),
        ("a.xlsx", None, "xlsx"),
        ("a.out", "csv", "csv"),
        ("a.xlsx", "xlsx", "xlsx"),
    ],
)
def test_output_format(name, fmt, expected):
    assert output_format(name, fmt) == expected


@pytest.mark.parametrize("name,fmt", [("a.pdf", None), ("a", None), ("a.xlsx", "csv"), ("a.csv", "parquet")])
def test_output_format_refused(name, fmt):
    with pytest.raises(OutputError):
        output_format(name, fmt)


def test_unknown_extension_and_own_input_write_nothing(model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("id,text\n1,jalan rusak parah di desa jelekong mohon diperbaiki\n", encoding="utf-8")
    before = inp.read_bytes()
    for output, expected in ((tmp_path / "out.pdf", "unknown extension '.pdf'"), (inp, "must not be the input")):
        proc = run_cli("classify", "--model", model_dir, "--input", inp, "--output", output)
        assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr
    assert inp.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
