"""Decoded states this worker last wrote, so a hot key is not read back and decoded every batch.

A worker is the only writer of the keys in the partitions it owns, so the state it wrote last
is the state in RocksDB. The cache forgets everything when partitions move (another worker may
have written them meanwhile, and recovery writes RocksDB behind its back) and a key whenever it
is written without its decoded state (a tombstone, a command). A batch keeps its states only if
no rebalance happened while it ran: `generation` changes on every `clear`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from agents.runtime.metrics import AGENT_CPU

State = TypeVar("State")


class StateCache(Generic[State]):
    """At most `capacity` decoded states by key; the least recently written goes first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.generation = 0
        # An OrderedDict evicts its oldest key in O(1); a dict's next(iter(...)) after many
        # deletions at its front walks the freed slots (6.9 µs per keep, measured, against 0.6).
        self._states: OrderedDict[str, State] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: str) -> State | None:
        """The state last kept for `key` (None when not cached)."""
        return self._states.get(key)

    def keep(self, key: str, state: State, generation: int) -> None:
        """Remember `state` as written for `key`, unless cleared since `generation` began."""
        if generation != self.generation or self.capacity <= 0:
            return
        states = self._states
        if key in states:
            states.move_to_end(key)
            states[key] = state
            return
        states[key] = state
        if len(states) > self.capacity:
            states.popitem(last=False)

    def forget(self, key: str) -> None:
        """Drop `key` (its stored value changed without a decoded state to keep)."""
        self._states.pop(key, None)

    def clear(self) -> None:
        """Drop every state and start a new generation (partitions moved, or a batch failed)."""
        self._states.clear()
        self.generation += 1


def clear_on_rebalance(app: Any, *caches: StateCache[Any]) -> None:
    """Clear `caches` when partitions are revoked or assigned and when recovery completes."""

    async def clear(sender: Any, *args: Any, **kwargs: Any) -> None:
        for cache in caches:
            cache.clear()

    for signal in (
        app.on_partitions_revoked,
        app.on_partitions_assigned,
        app.on_rebalance_complete,
    ):
        signal.connect(clear, weak=False)


async def apply_batch(
    agent: str, cache: StateCache[Any], apply: Callable[[list[Any]], Awaitable[int]], batch: Any
) -> int:
    """Run `apply` on a batch, counting its CPU time; a failed batch clears `cache`, whose
    states its folds may have changed without writing them."""
    started = time.thread_time()
    try:
        applied = await apply(list(batch))
    except BaseException:
        cache.clear()
        raise
    AGENT_CPU.labels(agent).inc(time.thread_time() - started)
    return applied
