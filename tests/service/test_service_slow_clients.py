"""A real `disposisi serve` keeps answering while 50 clients connect and send nothing or half a request."""

from __future__ import annotations

import select
import socket
import time

import pytest
import requests

from service.cli.serve import KEEPALIVE

pytestmark = pytest.mark.slow

N_SLOW = 50
HALF_HEAD = b"POST /v1/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applica"
HALF_BODY = (
    b"POST /v1/suggest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 1000\r\n\r\n{"text": "jalan rus'
)


def test_fifty_idle_or_half_open_sockets_do_not_starve_healthz_or_suggest(demo_server):
    slow = []
    try:
        for i in range(N_SLOW):
            sock = socket.create_connection(("127.0.0.1", demo_server.port), timeout=5)
            sock.sendall((b"", HALF_HEAD, HALF_BODY)[i % 3])
            slow.append(sock)
        time.sleep(0.5)  # the workers have accepted them by now
        for _ in range(20):  # a new connection each time: it must be accepted and answered
            t0 = time.monotonic()
            resp = requests.get(demo_server.base + "/healthz", timeout=2)
            assert resp.status_code == 200 and resp.json() == {"status": "ok"}
            assert time.monotonic() - t0 < 2
        with requests.Session() as s:
            for _ in range(10):
                resp = s.post(
                    demo_server.base + "/v1/suggest", json={"text": "jalan rusak berlubang di desa jelekong"}, timeout=2
                )
                assert resp.status_code == 200 and resp.json()["suggestions"]
        # and an idle socket does not stay forever: the server closes it once the request head is overdue
        idle = slow[0]
        readable, _, _ = select.select([idle], [], [], KEEPALIVE + 10)
        assert readable and idle.recv(1024) == b"", "the server should have closed a socket that sent nothing"
    finally:
        for sock in slow:
            sock.close()
    assert "Traceback" not in demo_server.log()
