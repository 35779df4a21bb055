"""Batches whose wait follows the backlog: short while the worker keeps up, long while it lags.

Faust's `take_events(n, within)` waits a fixed `within` for a batch to fill. A short wait keeps
an idle worker's latency low but makes a lagging worker pay each batch's fixed costs (lookups,
one changelog batch per partition, one RocksDB write per partition) for a few dozen events; a
long wait does the opposite. `take_batches` picks the wait per batch from the age of the oldest
event of the previous one, and otherwise behaves as `take_events`: events are acknowledged only
after the agent has finished with their batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types import EventT
from mode.utils.futures import notify

from agents.runtime.patches import access


@dataclass
class BatchWindow:
    """How long to wait for a batch to fill, from how far behind the last batch was."""

    shortest_s: float = 0.005
    longest_s: float = 0.05
    behind_s: float = 0.1
    current_s: float = 0.005

    def observe(self, oldest_timestamp: float | None, now: float) -> float:
        """Double the wait while the oldest event is `behind_s` old, else fall to the shortest."""
        lagging = oldest_timestamp is not None and now - oldest_timestamp > self.behind_s
        self.current_s = min(self.current_s * 2, self.longest_s) if lagging else self.shortest_s
        return self.current_s


async def take_batches(
    stream: Any, max_size: int, window: BatchWindow
) -> AsyncIterator[Sequence[EventT[Any]]]:
    """Yield lists of up to `max_size` events, each acknowledged once the agent is done."""
    events: list[EventT[Any]] = []
    full, consumed = asyncio.Event(), asyncio.Event()
    consuming: asyncio.Future[None] | None = None

    async def add(value: Any) -> Any:
        nonlocal consuming
        if consuming is not None:
            try:
                await consuming
            finally:
                consuming = None
        events.append(stream.current_event)
        if len(events) >= max_size:
            full.set()
            consumed.clear()
            await stream.wait(consumed)
        return value

    stream.enable_acks = False
    stream.add_processor(add)
    access.feed_passively(stream)
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(full, timeout=window.current_s)
            if not events:
                continue
            consuming = stream.loop.create_future()
            try:
                yield list(events)
            finally:
                window.observe(_oldest(events), time.time())
                for event in events:
                    await stream.ack(event)
                events.clear()
                notify(consuming)
                full.clear()
                consumed.set()
    finally:
        access.remove_processor(stream, add)


def _oldest(events: Sequence[EventT[Any]]) -> float | None:
    stamps = [event.message.timestamp for event in events if event.message.timestamp]
    return min(stamps) if stamps else None
