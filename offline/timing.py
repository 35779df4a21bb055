"""One timing line per training stage, on stderr, and the peak memory (RSS) after it."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Records how long each named stage took, and the process's peak RSS in MiB when it
    ended, and prints both when `verbose`."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.seconds: dict[str, float] = {}
        self.peak_mib: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block as `name`."""
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.peak_mib[name] = max(self.peak_mib.get(name, 0.0), peak)
        if self.verbose:
            print(f"{name}: {elapsed:.2f} s, peak RSS {peak:,.0f} MiB", file=sys.stderr, flush=True)

    @property
    def total(self) -> float:
        """Seconds over every stage."""
        return sum(self.seconds.values())
