"""How long the worker's consumer lets the broker hold a fetch: short while records flow,
long once the partitions have been quiet for a while (an idle worker then fetches about once
per `idle_ms` instead of every `busy_ms / 2`)."""

from __future__ import annotations

import time
from collections.abc import Callable


class FetchPace:
    """The fetch wait to ask for next, from whether the last fetches brought records."""

    def __init__(
        self,
        busy_ms: int,
        idle_ms: int,
        idle_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.busy_ms, self.idle_ms = busy_ms, max(idle_ms, busy_ms)
        self.idle_after_s, self._clock = idle_after_s, clock
        self._last_records = clock()

    def next_wait_ms(self, got_records: bool) -> int:
        """The wait of the next fetch: `busy_ms` within `idle_after_s` of the last records,
        `idle_ms` after that."""
        now = self._clock()
        if got_records:
            self._last_records = now
        quiet = now - self._last_records >= self.idle_after_s
        return self.idle_ms if quiet else self.busy_ms
