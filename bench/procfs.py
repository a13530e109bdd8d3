"""What /proc says about the processes the benchmark started and about the machine.

Linux only, like the deployment target: peak resident memory (VmHWM) and CPU seconds of
gunicorn workers, and how busy the whole machine was while a phase ran (the 2-core test
machines are shared, so a figure means little without that).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers are the master's children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def status_kb(pid: int, field: str) -> int:
    """A `kB` line of /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/{pid}/status")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (utime, stime of /proc/pid/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


@dataclass(frozen=True)
class MachineCpu:
    """A snapshot of /proc/stat's first line: busy and total jiffies over every core."""

    busy: int
    total: int

    @classmethod
    def now(cls) -> "MachineCpu":
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return cls(busy=sum(values) - idle, total=sum(values))

    def busy_cores_since(self, earlier: "MachineCpu") -> float:
        """Average number of cores busy between the two snapshots (all processes, ours or not)."""
        total = self.total - earlier.total
        return 0.0 if total <= 0 else (self.busy - earlier.busy) / total * os.cpu_count()
