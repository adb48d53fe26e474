"""Memory of running processes as Linux counts it, for `disposisi serve`'s workers (bench and tests).

RSS counts every page a process has resident, also the pages forked workers share with their
master; so the master's preloaded model would be counted once per worker. PSS divides each
shared page among the processes that share it (the sum over the server is its real footprint);
USS counts only the pages no other process has: what stopping that worker would give back.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

TARGET_MB = 200  # the issue: "under 200 MB per service worker"


@dataclass(frozen=True)
class Memory:
    """One process's memory in MB (10**6 bytes, the issue's unit)."""

    rss: float
    pss: float
    uss: float

    def line(self) -> str:
        return f"RSS {self.rss:.0f} MB, PSS {self.pss:.0f} MB, USS {self.uss:.0f} MB"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for the master's pid)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return sorted(out)


def memory(pid: int) -> Memory:
    """RSS, PSS and USS (private clean + private dirty) from ``/proc/<pid>/smaps_rollup``."""
    kib: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        kib[name] = int(value.split()[0])
    mb = 1024 / 1e6
    return Memory(kib["Rss"] * mb, kib["Pss"] * mb, (kib["Private_Clean"] + kib["Private_Dirty"]) * mb)


def median(memories: list[Memory]) -> Memory:
    """Median of each figure over several processes (the workers of one server)."""
    return Memory(*(statistics.median(getattr(m, f) for m in memories) for f in ("rss", "pss", "uss")))
