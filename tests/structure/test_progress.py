"""The progress helper: periodic lines when stderr is not a terminal, nothing when disabled, a bar on a TTY."""

from __future__ import annotations

import io

from routing_model.io.progress import Progress, progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_when_not_a_terminal():
    out = io.StringIO()
    with progress(30, "select", "fits", every=0, stream=out) as step:
        for _ in range(3):
            step(10)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("select: 10 fits of ~30 (33%)") and "fits/s, ETA" in lines[0]
    assert lines[-1].startswith("select: 30 fits of ~30 (100%)")


def test_lines_are_rate_limited_and_total_may_be_unknown():
    out = io.StringIO()
    with progress(None, "retrain", "steps", every=3600, stream=out) as step:
        step(1)
        step(1)
    assert out.getvalue() == ""  # nothing until `every` seconds have passed
    p = Progress(None, "classify", "rows", initial=5, stream=out)
    p.update(7)
    assert p.line().startswith("classify: 12 rows, ")


def test_disabled_is_silent():
    out = _Tty()
    with progress(10, "promote", "steps", enabled=False, every=0, stream=out) as step:
        step(10)
    assert out.getvalue() == ""


def test_env_switch_disables(monkeypatch):
    monkeypatch.setenv("DISPOSISI_PROGRESS", "0")
    out = io.StringIO()
    with progress(10, "x", every=0, stream=out) as step:
        step(5)
    assert out.getvalue() == ""


def test_bar_on_a_terminal():
    out = _Tty()
    with progress(4, "retrain", "steps", stream=out) as step:
        for _ in range(4):
            step(1)
    text = out.getvalue()
    assert "retrain" in text and "4/4" in text
