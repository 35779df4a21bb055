"""The catalog pools one API serves from, refreshed on the event loop a slice at a time.

The worker's tables are written by its actors on the same loop, so a sweep reads them between
their writes, never beside them: it takes the catalog a chunk at a time and, after each chunk,
sleeps long enough to hold at most SWEEP_DUTY of the loop. Only the first sweep runs on the
request path; later ones start once the pools are stale and requests keep the previous pools.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from itertools import islice
from typing import TypeVar

from models.pools import SWEEP_CHUNK, CatalogLookup, LivePools, PoolSweep, build_pools
from models.types import SignalsLookup

SWEEP_DUTY = 0.25
"""Share of the event loop a sweep may hold while it runs."""
SWEEP_SHARE = 0.05
"""At most this share of the time goes to sweeps: the refresh period grows with sweep time."""
Item = TypeVar("Item")
log = logging.getLogger(__name__)


async def sweep_in_slices(
    items: Iterable[Item],
    size: int,
    work: Callable[[list[Item]], None],
    duty: float = SWEEP_DUTY,
) -> float:
    """Pull `items` `size` at a time and call `work` on each slice, sleeping after each so the
    sweep holds at most `duty` of the loop; return the seconds spent pulling and working."""
    rest, idle_per_busy, worked = iter(items), (1.0 - duty) / duty, 0.0
    while True:
        started = time.perf_counter()
        chunk = list(islice(rest, size))
        if chunk:
            work(chunk)
        spent = time.perf_counter() - started
        worked += spent
        if not chunk:
            return worked
        await asyncio.sleep(spent * idle_per_busy)


class PoolRefresher:
    """The latest LivePools: the first call sweeps at once, later stale reads start a sweep on
    the loop and keep answering with the previous pools until it finishes."""

    def __init__(
        self,
        catalog: CatalogLookup,
        signals: SignalsLookup,
        limit: int,
        max_age_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog, self._signals, self._limit = catalog, signals, limit
        self._max_age_s, self._clock = max_age_s, clock
        self._pools: LivePools | None = None
        self._built_at = -math.inf
        self._period_s = max_age_s
        self.sweeping: asyncio.Task[None] | None = None

    def current(self) -> LivePools:
        """Pools at most about `max_age_s` old (older while a sweep runs); call on the loop."""
        pools = self._pools
        if pools is None:
            started = time.perf_counter()
            pools = build_pools(self._catalog(), self._signals, self._limit)
            self._keep(pools, time.perf_counter() - started)
            return pools
        if self.sweeping is None and self._clock() - self._built_at > self._period_s:
            self.sweeping = asyncio.get_running_loop().create_task(self._sweep())
        return pools

    def _keep(self, pools: LivePools, worked: float) -> None:
        self._pools, self._built_at = pools, self._clock()
        self._period_s = max(self._max_age_s, worked / SWEEP_SHARE)

    async def _sweep(self) -> None:
        try:
            sweep = PoolSweep(self._signals, self._limit)
            worked = await sweep_in_slices(self._catalog(), SWEEP_CHUNK, sweep.add)
            self._keep(sweep.pools(), worked)
        except Exception:  # partitions moved under the sweep: keep the old pools, retry later
            log.warning("catalog sweep failed; keeping the previous pools", exc_info=True)
            self._built_at = self._clock()
        finally:
            self.sweeping = None
