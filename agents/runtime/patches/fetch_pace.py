"""When a paced consumer may fetch again: at once while the worker is active, after a rest of
up to `idle_s` once it has been quiet for `idle_after_s`.

Active means records fetched by any paced consumer of the process, or a record the process
itself published (which its own consumers may be about to read). A publish ends every rest at
once, so an event POSTed to this worker is fetched without waiting out the rest; records
published elsewhere (other workers, external producers) reach a resting worker within `idle_s`.
The broker-held fetch wait stays short throughout: the embedded broker holds each fetch for half
of it even when data arrives (notes/faust-on-tansu.md), so a long one would slow every hop.
Consumers may run on other threads' event loops (Faust's consumer thread), so a publish wakes a
rest through its own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

Rest = tuple[asyncio.AbstractEventLoop, asyncio.Event]


class FetchPace:
    """The activity clock one process's paced consumers share, and the rests it ends."""

    def __init__(
        self, idle_s: float, idle_after_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.idle_s, self.idle_after_s, self._clock = idle_s, idle_after_s, clock
        self._active = clock()
        self._rests: tuple[Rest, ...] = ()
        self._lock = threading.Lock()

    def note(self, got_records: bool) -> None:
        """Record a fetch's outcome: records make the process active."""
        if got_records:
            self._active = self._clock()

    def wake(self) -> None:
        """The process publishes: it is active, and every rest ends now."""
        self._active = self._clock()
        for loop, event in self._rests:
            with contextlib.suppress(RuntimeError):  # a closed loop: nothing waits on it
                loop.call_soon_threadsafe(event.set)

    def pause_s(self) -> float:
        """Seconds the next fetch waits: none while active, `idle_s` once quiet."""
        quiet = self._clock() - self._active >= self.idle_after_s
        return self.idle_s if quiet else 0.0

    async def rest(self, got_records: bool) -> None:
        """After a fetch: return at once while active, else after the pause or a wake."""
        self.note(got_records)
        if not self.pause_s():
            return
        entry = (asyncio.get_running_loop(), asyncio.Event())
        self._change(lambda rests: (*rests, entry))
        try:
            # Registered before reading the clock again: a wake in between is never missed.
            pause = self.pause_s()
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(entry[1].wait(), pause)
        finally:
            self._change(lambda rests: tuple(rest for rest in rests if rest is not entry))

    def _change(self, update: Callable[[tuple[Rest, ...]], tuple[Rest, ...]]) -> None:
        with self._lock:
            self._rests = update(self._rests)
