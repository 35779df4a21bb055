"""One timing line per training stage, on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Records how long each named stage took and prints it when `verbose`."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block as `name`."""
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        if self.verbose:
            print(f"{name}: {elapsed:.2f} s", file=sys.stderr, flush=True)

    @property
    def total(self) -> float:
        """Seconds over every stage."""
        return sum(self.seconds.values())
