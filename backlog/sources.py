"""Streaming readers for backlog inputs: CSV/TSV (any delimiter, UTF-8 / UTF-8-BOM / Windows-1252),
JSON Lines, and .xlsx (including the SP4N-LAPOR! "Laporan Ringkas" export).

Every reader yields ``Record`` tuples in source order, never holding more than one record (plus a
bounded look-ahead) in memory. A record the reader cannot turn into a row (broken quoting, bytes that
do not decode, invalid JSON) is still yielded, with a reject reason, so that no input row is lost.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, NamedTuple

from routing_model.tabular import EXCEL_SUFFIXES, LAPOR_COLUMNS, TableError, find_lapor_header

# Candidate names (compared case-insensitively, spaces/underscores ignored) in order of preference.
TEXT_CANDIDATES = [
    "text", "isi laporan awal", "isi laporan", "isi", "laporan", "complaint", "complaint text", "keluhan",
    "aduan", "pengaduan", "tweet", "tweet text", "full text", "message", "pesan", "body", "content", "description",
    "deskripsi", "uraian",
]
ID_CANDIDATES = ["id", "tracking id", "trackingid", "report id", "complaint id", "ticket", "ticket id", "no laporan",
                 "nomor laporan", "nomor", "no"]

# A record spanning more physical lines than this while a quote is open is treated as broken quoting.
MAX_RECORD_LINES = 200
MAX_RECORD_CHARS = 200_000
RAW_EXCERPT_CHARS = 2_000
_SURROGATE = re.compile("[\udc80-\udcff]")
_DELIMITERS = [",", ";", "\t", "|"]


class Record(NamedTuple):
    """One source row: 1-based row/line number, cell values (aligned to the header) or a reject."""

    row: int
    values: list | None  # None when rejected by the reader
    reason: str = ""  # reject reason code when values is None
    detail: str = ""
    raw: str = ""


@dataclass
class Source:
    path: Path
    kind: str  # csv | jsonl | xlsx | lapor_xlsx
    columns: list[str]
    text_column: str
    id_column: str | None
    encoding: str | None = None
    delimiter: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def text_index(self) -> int:
        return self.columns.index(self.text_column)

    @property
    def id_index(self) -> int | None:
        return None if self.id_column is None else self.columns.index(self.id_column)

    def records(self) -> Iterator[Record]:
        if self.kind == "csv":
            return _csv_records(self)
        if self.kind == "jsonl":
            return _jsonl_records(self)
        return _xlsx_records(self)

    def estimate_rows(self) -> int | None:
        """A cheap upper estimate of the number of rows (for the progress bar's ETA)."""
        try:
            if self.kind in ("csv", "jsonl"):
                n = 0
                with open(self.path, "rb") as fh:
                    while block := fh.read(1 << 22):
                        n += block.count(b"\n")
                return max(n - (1 if self.kind == "csv" else 0), 0)
            return self.extra.get("max_row")
        except OSError:
            return None


# -- column detection ---------------------------------------------------------------------------
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name).strip().lower())


def _pick(columns: list[str], wanted: str | None, candidates: list[str], role: str, path, required: bool) -> str | None:
    if wanted:
        if wanted in columns:
            return wanted
        alias = LAPOR_COLUMNS.get(wanted)
        if alias in columns:
            return alias
        by_norm = {_norm(c): c for c in columns}
        if _norm(wanted) in by_norm:
            return by_norm[_norm(wanted)]
        raise TableError(f"{path}: no {role} column '{wanted}'; available columns: {', '.join(columns) or '(none)'}")
    by_norm = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    for cand in candidates:
        if cand in by_norm:
            return by_norm[cand]
    if required:
        raise TableError(
            f"{path}: cannot tell which column holds the complaint text (looked for: {', '.join(candidates[:10])}, ...); "
            f"pass --{role}-column NAME; available columns: {', '.join(columns) or '(none)'}"
        )
    return None


def open_source(path, text_column: str | None = None, id_column: str | None = None) -> Source:
    """Inspect ``path`` (format, encoding, delimiter, header) and pick the text and id columns."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        src = _open_xlsx(path)
    elif suffix in (".jsonl", ".ndjson") or (suffix == ".json" and _looks_jsonl(path)):
        src = _open_jsonl(path)
    else:
        src = _open_csv(path, "\t" if suffix == ".tsv" else None)
    src.text_column = _pick(src.columns, text_column, TEXT_CANDIDATES, "text", path, True)
    src.id_column = _pick(src.columns, id_column, ID_CANDIDATES, "id", path, False)
    return src


# -- CSV ----------------------------------------------------------------------------------------
def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """utf-8-sig (BOM), utf-8, or cp1252; a UTF-8 file with a few bad bytes stays UTF-8 (bad rows are rejected)."""
    with open(path, "rb") as fh:
        sample = fh.read(sample_bytes)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoded = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(sample, final=False)
    bad = len(_SURROGATE.findall(decoded))
    if bad == 0:
        return "utf-8"
    good_multibyte = sum(1 for ch in decoded if ord(ch) > 127 and not ("\udc80" <= ch <= "\udcff"))
    # Windows-1252 text almost never forms valid multi-byte UTF-8 sequences: any valid one means UTF-8
    # with a few corrupt rows (which are rejected), unless the corrupt bytes clearly dominate
    if good_multibyte and bad <= 10 * good_multibyte:
        return "utf-8"
    if good_multibyte == 0:
        return "cp1252"
    try:  # ambiguous: let charset-normalizer decide between the two
        from charset_normalizer import from_bytes

        best = from_bytes(sample, cp_isolation=["utf_8", "cp1252"]).best()
        return "utf-8" if best is not None and best.encoding == "utf_8" else "cp1252"
    except Exception:  # pragma: no cover - detection must never stop the import
        return "cp1252"


def _physical_lines(path: Path, encoding: str):
    with open(path, "r", encoding=encoding, errors="surrogateescape", newline="") as fh:
        for lineno, line in enumerate(fh, start=1):
            yield lineno, line


def _parse_record(text: str, delimiter: str) -> list[str]:
    rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    return rows[0] if rows else []


def _open_csv(path: Path, delimiter: str | None) -> Source:
    encoding = detect_encoding(path)
    pending: list[str] = []
    last = 0
    for lineno, line in _physical_lines(path, encoding):
        if not pending and not line.strip():
            continue
        pending.append(line)
        last = lineno
        if sum(ln.count('"') for ln in pending) % 2 == 0:
            break
        if len(pending) > MAX_RECORD_LINES:
            raise TableError(f"{path}: the header row has an unclosed quote")
    if not pending:
        raise TableError(f"{path} is empty")
    raw = "".join(pending).rstrip("\r\n")
    if delimiter is None:
        first = pending[0]
        delimiter = max(_DELIMITERS, key=lambda d: (first.count(d), -_DELIMITERS.index(d)))
    if _SURROGATE.search(raw):
        raise TableError(f"{path}: the header row has bytes that are not {encoding}")
    try:
        header = [c.strip() for c in _parse_record(raw, delimiter)]
    except csv.Error as exc:
        raise TableError(f"{path}: cannot parse the header row: {exc}") from exc
    return Source(path, "csv", header, "", None, encoding=encoding, delimiter=delimiter, extra={"header_last_line": last})


def _excerpt(raw: str) -> str:
    raw = raw.rstrip("\r\n")
    return raw if len(raw) <= RAW_EXCERPT_CHARS else raw[:RAW_EXCERPT_CHARS] + "…"


def _csv_records(src: Source) -> Iterator[Record]:
    """Records of a CSV: physical lines grouped until their quotes pair up (a quoted field may hold
    line breaks). A group that does not parse into a row of the header's width, or whose quote never
    closes (end of file, or more than MAX_RECORD_LINES lines), costs only its first line: that line
    is parsed alone (rejected if it is not a row) and the following lines are read again, so one
    stray quote loses one row, not the rest of the file.
    """
    ncols = len(src.columns)
    skip_until = src.extra.get("header_last_line", 1)
    lines = _physical_lines(src.path, src.encoding)
    replay: deque = deque()
    pending: list[tuple[int, str]] = []
    quotes = chars = 0

    while True:
        if replay:
            nxt = replay.popleft()
        else:
            nxt = next(lines, None)
            if nxt is None:
                if not pending:
                    break
                # end of file inside a quoted field
                yield _line_record(src, pending[0][0], pending[0][1], ncols)
                replay.extend(pending[1:])
                pending, quotes, chars = [], 0, 0
                continue
        lineno, line = nxt
        if lineno <= skip_until:
            continue
        if not pending and not line.strip():
            continue  # blank lines are not rows
        pending.append(nxt)
        quotes += line.count('"')
        chars += len(line)
        if quotes % 2:
            if len(pending) <= MAX_RECORD_LINES and chars <= MAX_RECORD_CHARS:
                continue
        elif len(pending) == 1:
            yield _line_record(src, lineno, line, ncols)
            pending, quotes, chars = [], 0, 0
            continue
        else:
            raw = "".join(ln for _, ln in pending)
            values = None
            if not _SURROGATE.search(raw):
                try:
                    values = _parse_record(raw.rstrip("\r\n"), src.delimiter)
                except csv.Error:
                    values = None
            if values is not None and len(values) == ncols:
                yield Record(pending[0][0], values)
                pending, quotes, chars = [], 0, 0
                continue
        # quotes did not pair up into a row: the first line alone, then re-read the rest
        yield _line_record(src, pending[0][0], pending[0][1], ncols)
        replay.extendleft(reversed(pending[1:]))
        pending, quotes, chars = [], 0, 0


def _line_record(src: Source, lineno: int, line: str, ncols: int) -> Record:
    """One physical line parsed on its own; a reject when it is not a complete row."""
    if _SURROGATE.search(line):
        return Record(lineno, None, "undecodable_bytes", f"bytes that are not valid {src.encoding}",
                      _excerpt(line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")))
    try:
        values = _parse_record(line.rstrip("\r\n"), src.delimiter)
    except csv.Error as exc:
        return Record(lineno, None, "broken_quoting", f"unclosed or misplaced quote ({exc})", _excerpt(line))
    if len(values) != ncols:
        reason = "broken_quoting" if '"' in line else "wrong_field_count"
        return Record(lineno, None, reason, f"{len(values)} fields, the header has {ncols}", _excerpt(line))
    return Record(lineno, values)


# -- JSON Lines ---------------------------------------------------------------------------------
def _looks_jsonl(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    return head.startswith(b"{")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        if isinstance(value, _dt.datetime) and value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _open_jsonl(path: Path) -> Source:
    encoding = detect_encoding(path)
    with open(path, "r", encoding=encoding, errors="surrogateescape") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return Source(path, "jsonl", [str(k) for k in obj], "", None, encoding=encoding)
    raise TableError(f"{path}: no JSON object found (JSON Lines needs one object per line)")


def _jsonl_records(src: Source) -> Iterator[Record]:
    columns = src.columns
    with open(src.path, "r", encoding=src.encoding, errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if _SURROGATE.search(line):
                yield Record(lineno, None, "undecodable_bytes", f"bytes that are not valid {src.encoding}",
                             _excerpt(line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")))
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield Record(lineno, None, "invalid_json", str(exc), _excerpt(line))
                continue
            if not isinstance(obj, dict):
                yield Record(lineno, None, "invalid_json", f"a JSON {type(obj).__name__}, not an object", _excerpt(line))
                continue
            text = obj.get(src.text_column)
            if text is not None and not isinstance(text, str):
                yield Record(lineno, None, "not_text", f"text is a JSON {type(text).__name__}", _excerpt(line))
                continue
            yield Record(lineno, [_cell(obj.get(c)) for c in columns])


# -- Excel --------------------------------------------------------------------------------------
_LAPOR_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%d/%m/%Y")


def _lapor_date(value) -> str:
    if isinstance(value, (_dt.datetime, _dt.date)):
        return (value.date() if isinstance(value, _dt.datetime) else value).isoformat()
    text = _cell(value).strip()
    for fmt in _LAPOR_DATE_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def _open_xlsx(path: Path) -> Source:
    import openpyxl

    try:
        header_row = find_lapor_header(path)
    except Exception as exc:
        raise TableError(f"{path}: cannot read as .xlsx: {exc}") from exc
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        max_row = ws.max_row
        if header_row is None:  # a plain spreadsheet: the first non-empty row is the header
            for i, row in enumerate(ws.iter_rows(values_only=True)):
                if any(v not in (None, "") for v in row):
                    header_row = i
                    break
            if header_row is None:
                raise TableError(f"{path} is empty")
            kind = "xlsx"
        else:
            kind = "lapor_xlsx"
        header = next(ws.iter_rows(min_row=header_row + 1, max_row=header_row + 1, values_only=True))
    finally:
        wb.close()
    names = [_cell(h).strip() for h in header]
    while names and names[-1] == "":
        names.pop()
    if kind == "lapor_xlsx":  # same column names as routing_model.tabular.read_lapor_export
        names = [LAPOR_COLUMNS.get(n, n) for n in names]
    names = [n or f"column_{i + 1}" for i, n in enumerate(names)]
    return Source(path, kind, names, "", None, extra={"header_row": header_row, "max_row": max(0, (max_row or 0) - header_row - 1)})


def _xlsx_records(src: Source) -> Iterator[Record]:
    import openpyxl

    ncols = len(src.columns)
    header_row = src.extra["header_row"]
    date_idx = src.columns.index("date") if src.kind == "lapor_xlsx" and "date" in src.columns else None
    wb = openpyxl.load_workbook(src.path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        for rownum, row in enumerate(ws.iter_rows(min_row=header_row + 2, values_only=True), start=header_row + 2):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            values = [_cell(v) for v in row[:ncols]]
            values += [""] * (ncols - len(values))
            if date_idx is not None and values[date_idx]:
                values[date_idx] = _lapor_date(row[date_idx])
            text = row[src.text_index] if src.text_index < len(row) else None
            if text is not None and not isinstance(text, str):
                values[src.text_index] = _cell(text)
            yield Record(rownum, values)
    finally:
        wb.close()
