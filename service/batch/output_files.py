"""The output file of `classify`: its format from the name the admin gave, and its completion.

Rows are appended to ``<output>.partial`` as CSV (or JSON Lines) while the job runs, so a killed
job leaves nothing under the admin's file name and ``--resume`` can continue the partial file.
When every row is done, ``finish_output`` gives the file its name: a rename for CSV/JSONL; for
``.xlsx`` a real workbook is streamed from the partial CSV (openpyxl write-only, constant memory),
written under a temporary name and renamed.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from routing_model.errors import DisposisiError

OUTPUT_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
XLSX_MAX_ROWS = 1_048_576  # Excel's sheet limit, header included
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters an .xlsx cell cannot hold
_SCORE = re.compile(r"^score_\d+$")


class OutputError(DisposisiError, ValueError):
    """The output cannot be written as asked (unknown extension, too many rows for .xlsx)."""


def output_format(output, fmt: str | None = None) -> str:
    """csv | jsonl | xlsx for ``--output`` (and ``--format`` if given); a one-line error otherwise."""
    suffix = Path(str(output)).suffix.lower()
    by_name = OUTPUT_FORMATS.get(suffix)
    if fmt is None:
        if by_name is None:
            known = ", ".join(sorted(OUTPUT_FORMATS))
            raise OutputError(
                f"--output {output}: unknown extension '{suffix or '(none)'}'; use one of {known} "
                "(or --format csv|jsonl|xlsx)"
            )
        return by_name
    if fmt not in ("csv", "jsonl", "xlsx"):
        raise OutputError(f"--format must be csv, jsonl or xlsx, not {fmt!r}")
    if by_name is not None and by_name != fmt:
        raise OutputError(f"--format {fmt} does not match the output file name {output} ({by_name})")
    return fmt


def finish_output(partial: Path, final: Path, fmt: str) -> None:
    """Give the complete partial file its final name (as an .xlsx workbook for fmt 'xlsx')."""
    if fmt != "xlsx":
        os.replace(partial, final)
        return
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        _csv_to_xlsx(partial, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    partial.unlink()


def _xlsx_value(column: str, value: str):
    """Scores as numbers (sortable in Excel); everything else stays text, exactly as in the CSV."""
    if _SCORE.match(column) and value:
        try:
            return float(value)
        except ValueError:
            return value
    return _ILLEGAL_XLSX.sub("", value)


def _csv_to_xlsx(src: Path, dst: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("disposisi")
    with open(src, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        ws.append([_ILLEGAL_XLSX.sub("", h) for h in header])
        for n, row in enumerate(reader, start=2):
            if n > XLSX_MAX_ROWS:
                raise OutputError(
                    f"more than {XLSX_MAX_ROWS:,} rows do not fit in an .xlsx sheet; "
                    f"the complete result is in {src} (CSV); use --output NAME.csv"
                )
            ws.append([_xlsx_value(c, v) for c, v in zip(header, row)])
    wb.save(dst)
