"""service.launch: a `disposisi serve` that cannot start says why (exit code, log tail) instead of hanging."""

from __future__ import annotations

import pytest

from service.launch import ServeProcess, ServerStartError


def test_a_server_that_exits_raises_with_its_log_tail(tmp_path):
    log = tmp_path / "server.log"
    with ServeProcess(
        ["--model", str(tmp_path / "no_model")], log, {"DISPOSISI_DATA_DIR": str(tmp_path / "var")}
    ) as server:
        with pytest.raises(ServerStartError) as err:
            server.wait_ready(60)
    first, *tail = str(err.value).splitlines()
    assert f"port {server.port} exited with code" in first and str(log) in first
    assert tail and any("no_model" in line for line in tail), str(err.value)
    assert server.proc.returncode not in (None, 0)


def test_not_ready_in_time_raises_and_the_block_stops_it(tmp_path):
    with ServeProcess(
        ["--model", str(tmp_path / "no_model")], tmp_path / "server.log", {"DISPOSISI_DATA_DIR": str(tmp_path / "var")}
    ) as server:
        with pytest.raises(ServerStartError, match="was not ready after 0 s"):
            server.wait_ready(0)
    assert server.proc.poll() is not None  # stopped on leaving the block
