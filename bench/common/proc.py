"""A running process read from /proc (memory, CPU time, open descriptors), and stopped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """Resident set size of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and its threads (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def open_fds(pid: int) -> tuple[int, int]:
    """File descriptors a process holds open: all of them, and those on RocksDB table files
    (.sst, which flushes add and compactions merge: they grow with the data, not a leak)."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(str(fd.readlink()))
        except OSError:  # closed meanwhile
            continue
    return len(targets), sum(target.endswith(".sst") for target in targets)


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if the process lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
