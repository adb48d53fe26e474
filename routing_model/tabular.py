"""Reading complaint tables: plain CSV or the official SP4N-LAPOR! "Laporan Ringkas" export.

The LAPOR! export is an .xlsx with report metadata above the header row (row 11 in the
exports we have seen) and Indonesian column names. We find the header by looking for known
column names rather than trusting a fixed row, and map them to Disposisi's column names.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from .errors import DisposisiError

# LAPOR! export column -> Disposisi column
LAPOR_COLUMNS = {
    "Tracking ID": "id",
    "Tanggal Laporan Masuk": "date",
    "Isi Laporan Awal": "text",
    "Instansi Terdisposisi": "agency",
    "Kategori": "category",
    "Judul Laporan": "title",
    "Tipe Laporan (Anonim/Rahasia)": "confidentiality",
    "Sumber Laporan": "channel",
    "Status Laporan": "status",
}
_HEADER_MARKERS = {"Tracking ID", "Isi Laporan Awal"}
_HEADER_SEARCH_ROWS = 40
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


class TableError(DisposisiError, ValueError):
    """The input table cannot be used as it is; the message says what to fix."""


def find_lapor_header(path: Path) -> int | None:
    """0-based row of the LAPOR! header in the first sheet, or None if this is not such an export."""
    try:
        head = pd.read_excel(path, header=None, nrows=_HEADER_SEARCH_ROWS, dtype=str)
    except Exception as exc:  # openpyxl/zipfile raise many types for a corrupt or foreign file
        raise TableError(f"{path} is not a readable .xlsx file: {exc}") from exc
    for row, values in head.iterrows():
        cells = {str(v).strip() for v in values if isinstance(v, str)}
        if _HEADER_MARKERS <= cells:
            return int(row)
    return None


def read_lapor_export(path: str | Path) -> pd.DataFrame:
    """The complaints of a LAPOR! xlsx export, with Disposisi column names (id, date, text, agency, ...)."""
    path = Path(path)
    header = find_lapor_header(path)
    if header is None:
        raise TableError(
            f"{path} is not a SP4N-LAPOR! 'Laporan Ringkas' export: no header row with "
            f"{' and '.join(sorted(_HEADER_MARKERS))} in its first {_HEADER_SEARCH_ROWS} rows"
        )
    frame = pd.read_excel(path, header=header, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns={k: v for k, v in LAPOR_COLUMNS.items() if k in frame.columns})
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"], errors="coerce", format="mixed").dt.strftime("%Y-%m-%d")
    frame.attrs["source_format"] = "lapor_xlsx"
    frame.attrs["first_data_row"] = header + 2  # 1-based spreadsheet row of the first complaint
    return frame


def read_table(path: str | Path) -> pd.DataFrame:
    """CSV (delimiter sniffed, UTF-8 or Windows-1252) or LAPOR! xlsx, all columns as strings."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"input file not found: {path}")
    if path.stat().st_size == 0:
        raise TableError(f"{path} is empty")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_lapor_export(path)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(path, dtype=str, sep=None, engine="python", encoding=encoding, keep_default_na=False, na_values=[""])
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, csv.Error) as exc:
            raise TableError(f"{path}: cannot parse as CSV: {exc}") from exc
        except pd.errors.EmptyDataError as exc:
            raise TableError(f"{path} is empty") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["source_format"] = "csv"
    frame.attrs["first_data_row"] = 2
    return frame


def column_name(frame: pd.DataFrame, name: str) -> str:
    """``name`` as present in the frame; a LAPOR! export's original column name also works."""
    if name not in frame.columns and LAPOR_COLUMNS.get(name) in frame.columns:
        return LAPOR_COLUMNS[name]
    return name


def require_columns(frame: pd.DataFrame, path, **columns: str) -> dict[str, str]:
    """Role -> actual column name; a TableError naming the missing columns and the available ones."""
    columns = {role: column_name(frame, col) for role, col in columns.items()}
    missing = {role: col for role, col in columns.items() if col not in frame.columns}
    if missing:
        wanted = ", ".join(f"{role} column '{col}'" for role, col in missing.items())
        raise TableError(f"{path}: no {wanted}; available columns: {', '.join(map(str, frame.columns))}")
    return columns
