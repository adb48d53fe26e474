"""A real `disposisi serve` answers a malformed chunked body with 400 and the JSON error shape, never 5xx."""

from __future__ import annotations

import json
import socket

import pytest

pytestmark = pytest.mark.slow

HEAD = (
    b"POST /v1/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


def _send(port: int, body: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(HEAD + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(payload) if payload.strip().startswith(b"{") else {}


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\n{}\r\n0\r\n\r\n",  # a chunk size that is not hexadecimal (gunicorn: InvalidChunkSize)
        b'5\r\n{"te"XX0\r\n\r\n',  # a chunk without its CRLF terminator
    ],
)
def test_malformed_chunked_body_is_400(demo_server, body):
    status, answer = _send(demo_server.port, body)
    assert status == 400, answer
    assert answer["error"]["code"] in {"invalid_chunked_body", "bad_request"}, answer
    # and the next well-formed chunked request on a new connection is answered as usual
    good = json.dumps({"text": "jalan rusak berlubang di desa jelekong"}).encode()
    status, answer = _send(demo_server.port, b"%x\r\n%s\r\n0\r\n\r\n" % (len(good), good))
    assert status == 200 and answer["suggestions"]
    assert "Traceback" not in demo_server.log()
