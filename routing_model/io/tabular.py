"""The one reader of complaint tables: CSV/TSV, JSON Lines and .xlsx (incl. the SP4N-LAPOR! export).

Every command reads its input here: ``train``, ``evaluate``, ``select`` and ``retrain`` through
``read_table`` (a DataFrame), ``classify`` through ``open_source(...).records()`` (a stream that
never holds more than one row). Both are the same code: one encoding detection, one way of
finding the LAPOR! header and mapping its column names, one date normalisation, one column
lookup. So a file gives the same rows, columns and dates whichever command reads it.

Files are not trusted: every read is bounded. A row the reader cannot turn into values (broken
quoting, bytes that do not decode, invalid or too deeply nested JSON, an over-long line or cell)
becomes a ``Record`` with a reject reason, counted by the caller, and the reading goes on. A
sheet's declared dimension is ignored (openpyxl ``reset_dimensions``): rows are read as they come.

The LAPOR! export is an .xlsx with report metadata above the header row (row 11 in the exports
we have seen) and Indonesian column names; the header is found by its column names.
``open_source`` keeps the file's own column names (``classify`` writes them back as they were);
``read_table`` renames the LAPOR! ones to Disposisi's (``id``, ``date``, ``text``, ``agency``, ...)
and gives the date column as YYYY-MM-DD.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import json
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from routing_model.errors import DisposisiError
from routing_model.text.name_keys import name_key

if TYPE_CHECKING:  # imported where a frame is built: `disposisi registry` reads text files without pandas
    import pandas as pd

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
_FROM_DISPOSISI = {v: k for k, v in LAPOR_COLUMNS.items()}
_HEADER_MARKERS = {"Tracking ID", "Isi Laporan Awal"}
_HEADER_SEARCH_ROWS = 40
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}

# Candidate names (compared case-insensitively, spaces/underscores ignored) in order of preference.
TEXT_CANDIDATES = [
    "text",
    "isi laporan awal",
    "isi laporan",
    "isi",
    "laporan",
    "complaint",
    "complaint text",
    "keluhan",
    "aduan",
    "pengaduan",
    "tweet",
    "tweet text",
    "full text",
    "message",
    "pesan",
    "body",
    "content",
    "description",
    "deskripsi",
    "uraian",
]
ID_CANDIDATES = [
    "id",
    "tracking id",
    "trackingid",
    "report id",
    "complaint id",
    "ticket",
    "ticket id",
    "no laporan",
    "nomor laporan",
    "nomor",
    "no",
]

# -- bounds: what one row, line, cell or header may cost -------------------------------------------
MAX_RECORD_LINES = 200  # physical lines of one CSV record while a quote is open
MAX_RECORD_CHARS = 200_000  # characters of one record (CSV record, JSON line)
MAX_CELL_CHARS = 100_000  # characters of one cell (longer: the row is rejected)
MAX_COLUMNS = 1_000  # columns of a header (more: the file is refused)
MAX_JSON_DEPTH = 20  # nesting of one JSON line (deeper: the row is rejected, never a RecursionError)
RAW_EXCERPT_CHARS = 2_000
_SURROGATE = re.compile("[\udc80-\udcff]")
_DELIMITERS = [",", ";", "\t", "|"]
csv.field_size_limit(MAX_RECORD_CHARS)


class TableError(DisposisiError, ValueError):
    """The input table cannot be used as it is; the message says what to fix."""


class Record(NamedTuple):
    """One source row: 1-based row/line number, cell values (aligned to the header) or a reject."""

    row: int
    values: list | None  # None when rejected by the reader
    reason: str = ""  # reject reason code when values is None
    detail: str = ""
    raw: str = ""


@dataclass
class Source:
    """An opened table: its format, its own column names, and a stream of its records."""

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


# -- column lookup ------------------------------------------------------------------------------
def find_column(columns: list[str], wanted: str) -> str | None:
    """``wanted`` as present in ``columns``: exact, its LAPOR! name or Disposisi name, or equal
    ignoring case, spaces and underscores; None if absent."""
    if wanted in columns:
        return wanted
    for alias in (LAPOR_COLUMNS.get(wanted), _FROM_DISPOSISI.get(wanted)):
        if alias in columns:
            return alias
    by_norm = {}
    for c in columns:
        by_norm.setdefault(name_key(c, keep="punctuation"), c)
    for name in (wanted, LAPOR_COLUMNS.get(wanted), _FROM_DISPOSISI.get(wanted)):
        if name is not None and name_key(name, keep="punctuation") in by_norm:
            return by_norm[name_key(name, keep="punctuation")]
    return None


def _pick(columns: list[str], wanted: str | None, candidates: list[str], role: str, path, required: bool) -> str | None:
    if wanted:
        found = find_column(columns, wanted)
        if found is None:
            raise TableError(
                f"{path}: no {role} column '{wanted}'; available columns: {', '.join(columns) or '(none)'}"
            )
        return found
    by_norm = {}
    for c in columns:
        by_norm.setdefault(name_key(c, keep="punctuation"), c)
    for cand in candidates:
        if cand in by_norm:
            return by_norm[cand]
    if required:
        raise TableError(
            f"{path}: cannot tell which column holds the complaint text (looked for: {', '.join(candidates[:10])}, ...); "
            f"pass --{role}-column NAME; available columns: {', '.join(columns) or '(none)'}"
        )
    return None


def column_name(frame: pd.DataFrame, name: str) -> str:
    """``name`` as present in the frame (same lookup as ``open_source``); ``name`` itself if absent."""
    return find_column([str(c) for c in frame.columns], name) or name


def require_columns(frame: pd.DataFrame, path, **columns: str) -> dict[str, str]:
    """Role -> actual column name; a TableError naming the missing columns and the available ones."""
    columns = {role: column_name(frame, col) for role, col in columns.items()}
    missing = {role: col for role, col in columns.items() if col not in frame.columns}
    if missing:
        wanted = ", ".join(f"{role} column '{col}'" for role, col in missing.items())
        hint = ""
        if frame.attrs.get("source_format") == "xlsx":
            hint = (
                f" (and it is not a SP4N-LAPOR! 'Laporan Ringkas' export: no header row with "
                f"{' and '.join(sorted(_HEADER_MARKERS))} in its first {_HEADER_SEARCH_ROWS} rows)"
            )
        raise TableError(f"{path}: no {wanted}; available columns: {', '.join(map(str, frame.columns))}{hint}")
    return columns


# -- dates --------------------------------------------------------------------------------------
_MONTHS = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "february": 2,
    "feb": 2,
    "pebruari": 2,
    "maret": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "agustus": 8,
    "august": 8,
    "agu": 8,
    "agt": 8,
    "aug": 8,
    "ags": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nopember": 11,
    "nov": 11,
    "desember": 12,
    "december": 12,
    "des": 12,
    "dec": 12,
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_DMY_NUM = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T].*)?$")
_DMY_NAME = re.compile(r"^(\d{1,2})[ -]([A-Za-z]+)\.?[ -](\d{4})(?:[ ,T].*)?$")


def normalise_date(value) -> str:
    """A date cell as YYYY-MM-DD: ISO, day/month/year (Indonesian order), '29 May 2023',
    '5 Januari 2021', or an Excel date; '' for an empty or unreadable value."""
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text or text.lower() in ("nan", "nat", "none"):
        return ""
    for pattern, order in ((_ISO, "ymd"), (_DMY_NUM, "dmy"), (_DMY_NAME, "dMy")):
        m = pattern.match(text)
        if not m:
            continue
        if order == "ymd":
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        elif order == "dmy":
            d, mo, y = int(m[1]), int(m[2]), int(m[3])
        else:
            d, y = int(m[1]), int(m[3])
            mo = _MONTHS.get(m[2].lower())
            if mo is None:
                return ""
        try:
            return _dt.date(y, mo, d).isoformat()
        except ValueError:
            return ""
    return ""


# -- small text files (registry, functions, agency names) -----------------------------------------
_BOM = codecs.BOM_UTF8


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1_000:g} kB"


def read_text_file(
    path: str | Path,
    max_bytes: int,
    what: str = "file",
    fix: str = "save it as UTF-8 text",
    error: type[DisposisiError] = TableError,
) -> str:
    """The whole of a small, user-given text file, decoded as UTF-8 (a leading BOM is dropped).

    Every such file is read through here so each refusal is bounded (at most ``max_bytes`` are
    read) and worded the same way: one line with the path, what is wrong and ``fix``, raised as
    ``error`` (the caller's own DisposisiError subclass, which its users already catch).
    """
    path = Path(path)
    if path.is_dir():
        raise error(f"{what} {path} is a directory; give the path of the file itself")
    if not path.exists():
        raise error(f"{what} not found: {path}; check the path")
    if not path.is_file():  # a FIFO or device would block or never end
        raise error(f"{what} {path} is not a regular file; give the path of a file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{what} {path} cannot be read ({exc.strerror or exc}); check that it is a readable file") from None
    if len(data) > max_bytes:
        raise error(f"{what} {path} is larger than {_size(max_bytes)}; {fix}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise error(f"{what} {path} is a binary file (NUL byte at offset {nul}); {fix}")
    start = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 (invalid byte at offset {start + exc.start}); {fix}") from None


# -- opening ------------------------------------------------------------------------------------
def open_source(
    path, text_column: str | None = None, id_column: str | None = None, require_text: bool = True
) -> Source:
    """Inspect ``path`` (format, encoding, delimiter, header) and pick the text and id columns."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"input file not found: {path}")
    if path.stat().st_size == 0:
        raise TableError(f"{path} is empty")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        src = _open_xlsx(path)
    elif suffix in JSONL_SUFFIXES or (suffix == ".json" and _looks_jsonl(path)):
        src = _open_jsonl(path)
    else:
        src = _open_csv(path, "\t" if suffix == ".tsv" else None)
    if len(src.columns) > MAX_COLUMNS:
        raise TableError(f"{path}: the header has {len(src.columns):,} columns; at most {MAX_COLUMNS:,} are read")
    if require_text or text_column:
        src.text_column = _pick(src.columns, text_column, TEXT_CANDIDATES, "text", path, True)
    src.id_column = _pick(src.columns, id_column, ID_CANDIDATES, "id", path, False)
    return src


def read_table(path: str | Path) -> pd.DataFrame:
    """The whole table as a DataFrame of strings, with Disposisi column names for a LAPOR! export.

    Same reader as ``classify``; the index is the source row number, rows the reader rejected
    are counted in ``frame.attrs["reader_rejects"]`` (reason -> count) with a few examples in
    ``frame.attrs["reader_reject_examples"]``. ``attrs["first_data_row"]`` is the first row number.
    """
    import pandas as pd

    src = open_source(path, require_text=False)
    rows, index, rejects, examples = [], [], Counter(), []
    for rec in src.records():
        if rec.values is None:
            rejects[rec.reason] += 1
            if len(examples) < 10:
                examples.append({"row": rec.row, "reason": rec.reason, "detail": rec.detail})
            continue
        rows.append(rec.values)
        index.append(rec.row)
    columns = list(src.columns)
    if src.kind == "lapor_xlsx":
        columns = [LAPOR_COLUMNS.get(c, c) for c in columns]
    frame = pd.DataFrame(rows, columns=columns, index=pd.Index(index, dtype="int64", name=None), dtype=object)
    if src.kind == "lapor_xlsx" and "date" in frame.columns:
        frame["date"] = [normalise_date(v) for v in frame["date"]]
    frame.attrs["source_format"] = src.kind
    frame.attrs["first_data_row"] = int(index[0]) if index else int(src.extra.get("first_row", 2))
    frame.attrs["row_index"] = True
    frame.attrs["reader_rejects"] = dict(rejects)
    frame.attrs["reader_reject_examples"] = examples
    return frame


def source_rows(frame: pd.DataFrame) -> list[int]:
    """1-based source row of every row of a frame from ``read_table`` (or counted from first_data_row)."""
    if frame.attrs.get("row_index"):
        return [int(i) for i in frame.index]
    first = int(frame.attrs.get("first_data_row", 2))
    return list(range(first, first + len(frame)))


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


_TOO_LONG = object()  # a physical line longer than MAX_RECORD_CHARS (its text is not kept)


def _physical_lines(path: Path, encoding: str):
    """(line number, line) with every line bounded: an over-long one is yielded as ``_TOO_LONG``."""
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as fh:
        lineno = 0
        while True:
            line = fh.readline(MAX_RECORD_CHARS + 1)
            if not line:
                return
            lineno += 1
            if len(line) > MAX_RECORD_CHARS and not line.endswith("\n"):
                while (rest := fh.readline(MAX_RECORD_CHARS)) and not rest.endswith("\n"):
                    pass  # skip the rest of the line without holding it
                yield lineno, _TOO_LONG
                continue
            yield lineno, line


def _parse_record(text: str, delimiter: str) -> list[str]:
    rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    return rows[0] if rows else []


def _open_csv(path: Path, delimiter: str | None) -> Source:
    encoding = detect_encoding(path)
    pending: list[str] = []
    last = 0
    for lineno, line in _physical_lines(path, encoding):
        if line is _TOO_LONG:
            raise TableError(f"{path}: the header row is longer than {MAX_RECORD_CHARS:,} characters")
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
    if _SURROGATE.search(raw) or "\x00" in raw:
        raise TableError(f"{path}: the header row has bytes that are not {encoding} text (is this a CSV file?)")
    try:
        header = [c.strip() for c in _parse_record(raw, delimiter)]
    except csv.Error as exc:
        raise TableError(f"{path}: cannot parse the header row: {exc}") from exc
    return Source(
        path,
        "csv",
        header,
        "",
        None,
        encoding=encoding,
        delimiter=delimiter,
        extra={"header_last_line": last, "first_row": last + 1},
    )


def _excerpt(raw: str) -> str:
    raw = raw.rstrip("\r\n")
    return raw if len(raw) <= RAW_EXCERPT_CHARS else raw[:RAW_EXCERPT_CHARS] + "…"


def _cell_too_long(values: list) -> int | None:
    for i, v in enumerate(values):
        if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
            return i
    return None


def _checked(src: Source, rec: Record) -> Record:
    """The record, or a reject when one of its cells is over the bound."""
    if rec.values is None:
        return rec
    i = _cell_too_long(rec.values)
    if i is None:
        return rec
    return Record(
        rec.row,
        None,
        "cell_too_long",
        f"column '{src.columns[i]}' has {len(rec.values[i]):,} characters; the limit is {MAX_CELL_CHARS:,}",
        _excerpt(rec.values[i]),
    )


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
        if line is _TOO_LONG:
            if pending:  # the open record cannot continue through it: its first line alone, then re-read
                yield _line_record(src, pending[0][0], pending[0][1], ncols)
                replay.extendleft(reversed(pending[1:] + [nxt]))
                pending, quotes, chars = [], 0, 0
                continue
            yield Record(lineno, None, "line_too_long", f"a line longer than {MAX_RECORD_CHARS:,} characters")
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
                yield _checked(src, Record(pending[0][0], values))
                pending, quotes, chars = [], 0, 0
                continue
        # quotes did not pair up into a row: the first line alone, then re-read the rest
        yield _line_record(src, pending[0][0], pending[0][1], ncols)
        replay.extendleft(reversed(pending[1:]))
        pending, quotes, chars = [], 0, 0


def _line_record(src: Source, lineno: int, line: str, ncols: int) -> Record:
    """One physical line parsed on its own; a reject when it is not a complete row."""
    if _SURROGATE.search(line):
        return Record(
            lineno,
            None,
            "undecodable_bytes",
            f"bytes that are not valid {src.encoding}",
            _excerpt(line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")),
        )
    try:
        values = _parse_record(line.rstrip("\r\n"), src.delimiter)
    except csv.Error as exc:
        return Record(lineno, None, "broken_quoting", f"unclosed or misplaced quote ({exc})", _excerpt(line))
    if len(values) != ncols:
        reason = "broken_quoting" if '"' in line else "wrong_field_count"
        return Record(lineno, None, reason, f"{len(values)} fields, the header has {ncols}", _excerpt(line))
    return _checked(src, Record(lineno, values))


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


def json_depth(line: str) -> int:
    """Deepest nesting of ``[``/``{`` outside strings (a JSON line's cost to parse recursively)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in line:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _json_object(line: str):
    """``(object, None)`` or ``(None, (reason, detail))`` for one bounded JSON line."""
    if line.count("[") + line.count("{") > MAX_JSON_DEPTH and json_depth(line) > MAX_JSON_DEPTH:
        return None, ("too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        obj = json.loads(line)
    except RecursionError:  # pragma: no cover - json_depth guards this; kept as a backstop
        return None, ("too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    except ValueError as exc:
        return None, ("invalid_json", str(exc))
    if not isinstance(obj, dict):
        return None, ("invalid_json", f"a JSON {type(obj).__name__}, not an object")
    return obj, None


def _open_jsonl(path: Path) -> Source:
    encoding = detect_encoding(path)
    for _, line in _physical_lines(path, encoding):
        if line is _TOO_LONG or not line.strip():
            continue
        obj, _problem = _json_object(line)
        if obj is not None:
            return Source(path, "jsonl", [str(k) for k in obj], "", None, encoding=encoding, extra={"first_row": 1})
    raise TableError(f"{path}: no JSON object found (JSON Lines needs one object per line)")


def _jsonl_records(src: Source) -> Iterator[Record]:
    columns = src.columns
    for lineno, line in _physical_lines(src.path, src.encoding):
        if line is _TOO_LONG:
            yield Record(lineno, None, "line_too_long", f"a line longer than {MAX_RECORD_CHARS:,} characters")
            continue
        if not line.strip():
            continue
        if _SURROGATE.search(line):
            yield Record(
                lineno,
                None,
                "undecodable_bytes",
                f"bytes that are not valid {src.encoding}",
                _excerpt(line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")),
            )
            continue
        obj, problem = _json_object(line)
        if problem is not None:
            yield Record(lineno, None, problem[0], problem[1], _excerpt(line))
            continue
        text = obj.get(src.text_column) if src.text_column else None
        if text is not None and not isinstance(text, str):
            yield Record(lineno, None, "not_text", f"text is a JSON {type(text).__name__}", _excerpt(line))
            continue
        yield _checked(src, Record(lineno, [_cell(obj.get(c)) for c in columns]))


# -- Excel --------------------------------------------------------------------------------------
def _open_workbook(path: Path):
    """The first sheet, read-only, with its declared dimension dropped: a sheet claiming A1:XFD1048576
    must cost what it holds, not what it declares."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
    except Exception as exc:  # openpyxl/zipfile raise many types for a corrupt or foreign file
        raise TableError(f"{path} is not a readable .xlsx file: {type(exc).__name__}: {exc}") from exc
    declared = ws.max_row
    ws.reset_dimensions()
    return wb, ws, declared


def _row_values(row) -> list:
    """Cell values of one sheet row, at most MAX_COLUMNS + 1 of them, trailing empties dropped."""
    values = list(row[: MAX_COLUMNS + 1]) if row else []
    while values and (values[-1] is None or (isinstance(values[-1], str) and not values[-1].strip())):
        values.pop()
    return values


def find_lapor_header(path: Path) -> int | None:
    """0-based row of the LAPOR! header in the first sheet, or None if this is not such an export."""
    wb, ws, _ = _open_workbook(Path(path))
    try:
        for i, row in enumerate(ws.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True)):
            cells = {v.strip() for v in _row_values(row) if isinstance(v, str)}
            if _HEADER_MARKERS <= cells:
                return i
    except Exception as exc:
        raise TableError(f"{path} is not a readable .xlsx file: {type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
    return None


def _open_xlsx(path: Path) -> Source:
    wb, ws, declared = _open_workbook(path)
    try:
        header_row, header, kind = None, None, "xlsx"
        for i, row in enumerate(ws.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True)):
            values = _row_values(row)
            cells = {v.strip() for v in values if isinstance(v, str)}
            if _HEADER_MARKERS <= cells:
                header_row, header, kind = i, values, "lapor_xlsx"
                break
            if header is None and values:  # a plain spreadsheet: the first non-empty row is the header
                header_row, header = i, values
        if header is None:
            raise TableError(f"{path} is empty (nothing in its first {_HEADER_SEARCH_ROWS} rows)")
    except TableError:
        raise
    except Exception as exc:
        raise TableError(f"{path} is not a readable .xlsx file: {type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
    names = [_cell(h).strip() for h in header]
    names = [n or f"column_{i + 1}" for i, n in enumerate(names)]
    return Source(
        path,
        kind,
        names,
        "",
        None,
        extra={
            "header_row": header_row,
            "first_row": header_row + 2,
            "max_row": max(0, (declared or 0) - header_row - 1),
        },
    )


def _xlsx_records(src: Source) -> Iterator[Record]:
    ncols = len(src.columns)
    header_row = src.extra["header_row"]
    text_index = src.text_index if src.text_column else None
    wb, ws, _ = _open_workbook(src.path)
    try:
        for rownum, row in enumerate(ws.iter_rows(min_row=header_row + 2, values_only=True), start=header_row + 2):
            if not row or all(v is None or (isinstance(v, str) and not v.strip()) for v in row[:ncols]):
                if row and len(row) > ncols and any(v not in (None, "") for v in row[ncols:]):
                    yield Record(rownum, None, "wrong_field_count", f"values beyond the header's {ncols} columns only")
                continue
            values = [_cell(v) for v in row[:ncols]]
            values += [""] * (ncols - len(values))
            if text_index is not None:
                text = row[text_index] if text_index < len(row) else None
                if text is not None and not isinstance(text, (str, int, float)):
                    yield Record(rownum, None, "not_text", f"the text cell holds a {type(text).__name__}")
                    continue
            yield _checked(src, Record(rownum, values))
    finally:
        wb.close()
