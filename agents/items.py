"""Per-item actors: `count_item_events` (counters, trend, arms) and `maintain_catalog`."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, NamedTuple

import orjson
from faust.types import EventT

from agents.app import Worker
from agents.dead_letters import decode_json, emit_dead_letter, send_dead_letter
from agents.invalidation import Invalidator
from agents.keys import check_key
from agents.runtime.context import partition_for, write
from agents.runtime.metrics import EVENTS_PROCESSED
from agents.runtime.state_cache import StateCache, apply_batch, clear_on_rebalance
from agents.runtime.tables import ITEM_STATE
from agents.runtime.transaction import Runtime, Transaction
from schemas.validate import parse_catalog_record
from streamrec import topics
from streamrec.errors import InvalidRecord
from tables.catalog import CatalogEntry, apply_upsert
from tables.item import ItemState, apply_impression, apply_item_event, summary_bytes
from tables.windows import type_index

BATCH_SIZE = 1000
# Messages carry many signals each; waiting a little longer lets a batch write a hot item once.
BATCH_WITHIN_S = 0.05
IMPRESSION = "impression"


class Signal(NamedTuple):
    """One item signal: an applied event (type = its type) or `times` impressions ("" id: none)."""

    item_id: str
    event_id: str
    type: str
    timestamp: float
    times: int

    @property
    def value(self) -> None:
        """Item counters ignore event values."""
        return None


def signal_rows(payload: Any) -> list[Signal]:
    """The signals of one message: rows of [item_id, signal_id, kind, timestamp, times]."""
    signals = [
        Signal(str(item_id), str(signal_id or ""), str(kind), float(timestamp), int(times))
        for item_id, signal_id, kind, timestamp, times in payload
    ]
    for signal in signals:
        if signal.type != IMPRESSION:
            type_index(signal.type)  # reject the whole message before folding any of it
    return signals


def fold_signal(state: ItemState | None, signal: Signal) -> ItemState:
    """Apply one item signal (a forwarded event or impressions) to the item's state, once per id."""
    if signal.type == IMPRESSION:
        signal_id = signal.event_id or None
        return apply_impression(state, signal.timestamp, signal.times, signal_id=signal_id)
    return apply_item_event(state, signal)


class ItemActors:
    """What the item actors share on one worker: its tables and decoded item states."""

    def __init__(
        self,
        runtime: Runtime,
        partitions: int,
        state_cache_size: int,
        summaries: str | None = None,
    ) -> None:
        self.runtime, self.partitions = runtime, partitions
        self.states = StateCache[ItemState](state_cache_size)
        self.summaries = summaries
        """The topic each batch's changed items are summarised to (None: no summaries)."""

    def _load(self, transaction: Transaction, item_id: str) -> ItemState | None:
        state = self.states.get(item_id)
        if state is None:
            data = transaction.get(ITEM_STATE, item_id, partition_for(item_id, self.partitions))
            state = ItemState.from_json(data) if data else None
        return state

    async def apply_item_batch(self, batch: list[EventT[Any]]) -> int:
        """Fold a batch of item-signal messages, writing each item once; return signals folded.
        Undecodable messages go to dead-letters."""
        transaction = self.runtime.transaction()
        signals: list[Signal] = []
        for event in batch:
            try:
                signals += signal_rows(orjson.loads(event.value))
            except (ValueError, KeyError, TypeError, InvalidRecord) as error:
                emit_dead_letter(transaction, event, f"item signal: {error!r}")
        return await self.fold_signals(signals, transaction)

    async def fold_signals(self, signals: list[Signal], transaction: Transaction) -> int:
        """Fold signals into the item states of this worker's partitions, writing each item once,
        and commit; return signals folded."""
        pending: dict[str, ItemState] = {}
        folded = Counter[str]()
        generation = self.states.generation
        for signal in signals:
            item_id = signal.item_id
            state = pending[item_id] if item_id in pending else self._load(transaction, item_id)
            pending[item_id] = fold_signal(state, signal)
            folded["event" if signal.type != IMPRESSION else IMPRESSION] += 1
        for item_id, state in pending.items():
            partition = partition_for(item_id, self.partitions)
            encoded = orjson.dumps(state.to_json())
            transaction.put_encoded(ITEM_STATE, item_id, encoded, partition)
            if self.summaries is not None:
                summary = summary_bytes(item_id, state, encoded)
                transaction.log(self.summaries, partition, item_id, summary)
        await transaction.commit()
        for item_id, state in pending.items():
            self.states.keep(item_id, state, generation)
        for kind, count in folded.items():
            EVENTS_PROCESSED.labels(topics.ITEM_SIGNALS, kind).inc(count)
        return folded.total()


def install(worker: Worker, invalidator: Invalidator) -> ItemActors:
    """Register `count_item_events` and `maintain_catalog` on the worker's app."""
    settings = worker.settings
    summaries = worker.topics.item_summaries.get_topic_name() if settings.item_summaries else None
    actors = ItemActors(worker.runtime, settings.partitions, settings.state_cache_size, summaries)
    clear_on_rebalance(worker.app, actors.states)
    tables = worker.tables

    @worker.app.agent(worker.topics.item_signals)
    async def count_item_events(stream: Any) -> None:
        """Windowed counters, trend and Thompson arm per item, from events and impressions;
        each batch's changed items are summarised for every worker."""
        await worker.topics.item_summaries.maybe_declare()
        async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
            await apply_batch("items", actors.states, actors.apply_item_batch, batch)

    @worker.app.agent(worker.topics.items)
    async def maintain_catalog(stream: Any) -> None:
        """Catalog upserts into a table every worker reads; a null value deletes (tombstone)."""
        async for event in stream.events():
            try:
                upsert = (
                    None if event.value is None else parse_catalog_record(decode_json(event.value))
                )
                item_id = check_key(event.key, upsert.item_id if upsert else None, "item_id")
            except (ValueError, InvalidRecord) as error:
                await send_dead_letter(worker.runtime, event, str(error))
                continue
            current = tables.catalog.get(item_id)
            entry = apply_upsert(
                CatalogEntry.from_json(current) if current else None, upsert, time.time()
            )
            write(tables.catalog, item_id, entry.to_json() if entry else None, event)
            invalidator.catalog_changed()
            kind = "delete" if upsert is None else "upsert"
            EVENTS_PROCESSED.labels(topics.ITEMS, kind).inc()

    return actors
