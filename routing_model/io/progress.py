"""Progress of a long command: a bar on a terminal, a log line every few seconds otherwise.

    with progress(total, "retrain") as step:
        for part in parts:
            ...
            step(1)

An admin watching a terminal sees a tqdm bar; a job under cron or CI (stderr not a terminal)
gets a plain line every ``every`` seconds (``label: 7 rows of ~30 (23%), 12 rows/s, ETA 0m02s``),
so a log shows the job is alive without a line per row. ``enabled=False`` (``--quiet``) or
``DISPOSISI_PROGRESS=0`` makes it a no-op; ``total=None`` when the size is unknown.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DEFAULT_EVERY = 10.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
    """The counter behind ``progress()``; ``update(n)`` after each piece of work."""

    def __init__(
        self,
        total: int | None,
        label: str,
        unit: str = "rows",
        initial: int = 0,
        enabled: bool = True,
        every: float = DEFAULT_EVERY,
        stream=None,
    ):
        self.total, self.label, self.unit, self.every = total, label, unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and os.environ.get("DISPOSISI_PROGRESS", "1") != "0"
        self.done = self.initial = initial
        self.start = self.last = time.monotonic()
        self.bar = None
        if self.enabled and _isatty(self.stream):
            import shutil

            from tqdm import tqdm

            width = shutil.get_terminal_size((0, 0)).columns  # a pty may report 0 columns
            self.bar = tqdm(
                total=total,
                initial=initial,
                unit=unit,
                unit_scale=unit == "rows",
                dynamic_ncols=width > 0,
                ncols=None if width > 0 else 100,
                desc=label,
                file=self.stream,
                smoothing=0.1,
            )

    def update(self, n: int = 1, total: int | None = None) -> None:
        """``n`` more units done; ``total`` when the work turned out larger or smaller than planned."""
        self.done += n
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        if self.bar is not None:
            if total is not None:
                self.bar.total = total
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        rate = (self.done - self.initial) / max(now - self.start, 1e-9)
        msg = f"{self.label}: {self.done:,} {self.unit}"
        if self.total:
            pct = min(self.done / self.total, 1.0) * 100
            eta = (self.total - self.done) / rate if rate > 0 and self.total > self.done else 0
            msg += f" of ~{self.total:,} ({pct:.0f}%), {_rate(rate)} {self.unit}/s, ETA {_duration(eta)}"
        else:
            msg += f", {_rate(rate)} {self.unit}/s"
        return msg

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _rate(rate: float) -> str:
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(
    total: int | None,
    label: str,
    unit: str = "rows",
    *,
    enabled: bool = True,
    every: float = DEFAULT_EVERY,
    initial: int = 0,
    stream=None,
) -> Iterator[Callable[[int], None]]:
    """``step(n)`` to report ``n`` more units done (``step(n, total=...)`` to correct the total);
    the bar is closed when the block ends."""
    p = Progress(total, label, unit, initial=initial, enabled=enabled, every=every, stream=stream)
    try:
        yield p.update
    finally:
        p.close()
