"""An uploaded complaint file (LAPOR! "Laporan Ringkas" .xlsx or CSV) -> complaints to import.

The bytes go to a private temporary file so the project's one table reader
(``routing_model.io.tabular.read_table``) reads them exactly as it reads a file on disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from routing_model.io.tabular import TableError, read_table

from .complaints import NewComplaint, complaints_from_frame

ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".tsv", ".txt")


class UploadError(TableError):
    """The upload is missing or is not a complaint table; nothing was stored."""


def complaints_from_upload(file_storage) -> list[NewComplaint]:
    """Read a werkzeug ``FileStorage``; UploadError/TableError say in one line what is wrong."""
    if file_storage is None or not file_storage.filename:
        raise UploadError("pilih berkas ekspor LAPOR! (.xlsx) atau CSV untuk diunggah (no file in field 'file')")
    name = Path(file_storage.filename).name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError(
            f"{name}: bukan ekspor SP4N-LAPOR! (.xlsx) atau CSV; jenis berkas {suffix or '(tanpa akhiran)'} "
            "tidak diterima"
        )
    fd, tmp = tempfile.mkstemp(prefix="disposisi-upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            file_storage.save(out)
        if os.path.getsize(tmp) == 0:
            raise UploadError(f"{name}: berkas kosong (the file is empty)")
        try:
            frame = read_table(tmp)
        except TableError as exc:
            raise UploadError(str(exc).replace(tmp, name)) from None
        return complaints_from_frame(frame, name)
    finally:
        os.unlink(tmp)
