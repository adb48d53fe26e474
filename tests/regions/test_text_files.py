"""read_text_file: the one bounded UTF-8 reader of small user-given files (registry, functions, agency names)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from routing_model.errors import DisposisiError
from routing_model.io.tabular import TableError, read_text_file
from routing_model.registry.agencies import Registry, RegistryError
from routing_model.registry.functions import FunctionCatalogue, FunctionsError
from routing_model.registry.starter import AgenciesFileError, read_agency_names

FIX = "give a UTF-8 text file"


def _refusal(path, max_bytes: int = 1000) -> str:
    with pytest.raises(TableError) as err:
        read_text_file(path, max_bytes, "agencies file", FIX)
    message = str(err.value)
    assert "\n" not in message and isinstance(err.value, DisposisiError)
    return message


def test_reads_utf8_and_drops_a_bom(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfDinas Kesehatan\nDinas \xc3\x89\n")
    assert read_text_file(path, 1000) == "Dinas Kesehatan\nDinas \u00c9\n"
    path.write_bytes(b"")
    assert read_text_file(path, 1000) == ""  # empty is the caller's business (its own message)


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "nope.txt"
    assert _refusal(missing) == f"agencies file not found: {missing}; check the path"
    message = _refusal(tmp_path)
    assert str(tmp_path) in message and "is a directory" in message and "path of the file" in message


def test_too_large_reads_no_more_than_the_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2001)
    message = _refusal(path, max_bytes=2000)
    assert message == f"agencies file {path} is larger than 2 kB; {FIX}"
    path.write_bytes(b"x" * 2000)
    assert len(read_text_file(path, 2000)) == 2000  # exactly the limit is fine


def test_not_utf8_names_the_byte_offset_in_the_file(tmp_path):
    path = tmp_path / "cp1252.txt"
    path.write_bytes("Dinas Pendidikan \xe9\n".encode("cp1252"))
    assert _refusal(path) == f"agencies file {path} is not UTF-8 (invalid byte at offset 17); {FIX}"
    path.write_bytes(b"\xef\xbb\xbf" + "Dinas \xe9".encode("cp1252"))  # the offset counts the BOM too
    assert "invalid byte at offset 9" in _refusal(path)


def test_binary_names_the_nul_offset(tmp_path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"PK\x03\x04\x00\x00\xff")
    assert _refusal(path) == f"agencies file {path} is a binary file (NUL byte at offset 4); {FIX}"
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text("Dinas Kesehatan\n", encoding="utf-16")
    assert "binary file" in _refusal(utf16)


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "is not a regular file" in _refusal(fifo)


@pytest.mark.parametrize(
    "read,error",
    [
        (Registry.load, RegistryError),
        (FunctionCatalogue.load, FunctionsError),
        (read_agency_names, AgenciesFileError),
    ],
)
def test_every_caller_keeps_its_own_error_class(tmp_path, read, error):
    for content, expected in [
        (b"\x00\x01", "binary file"),
        (b"nama\n\xff\n", r"not UTF-8 \(invalid byte at offset 5\)"),
    ]:
        path = tmp_path / "f.csv"
        path.write_bytes(content)
        with pytest.raises(error, match=expected) as err:
            read(path)
        assert "\n" not in str(err.value) and str(path) in str(err.value)
    with pytest.raises(error, match="is a directory"):
        read(tmp_path)
    with pytest.raises(error, match="not found"):
        read(tmp_path / "missing.csv")


def test_registry_path_stays_free_of_pandas():
    """`disposisi registry ...` starts fast: reading a registry must not import pandas."""
    code = "import sys, routing_model.registry.agencies, routing_model.registry.starter; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
