"""Per-item actors: `count_item_events` (counters, trend, arms) and `maintain_catalog`."""

from __future__ import annotations

import time
from typing import Any

from faust.types import EventT

from agents.app import app, item_signals_topic, items_topic, tables
from agents.context import write
from agents.dead_letters import decode_json, send_dead_letter
from agents.metrics import EVENTS_PROCESSED
from schemas.records import Interaction
from schemas.validate import parse_item
from streamrec.errors import InvalidRecord
from tables.catalog import CatalogEntry, apply_upsert
from tables.item import ItemState, apply_impression, apply_item_event

BATCH_SIZE = 1000
BATCH_WITHIN_S = 0.005


def _load_item(item_id: str) -> ItemState | None:
    data = tables.item_state.get(item_id)
    return ItemState.from_json(data) if data else None


def fold_signal(state: ItemState | None, signal: dict[str, Any]) -> ItemState:
    """Apply one item signal (a forwarded event or an impression) to the item's state."""
    if signal["kind"] == "impression":
        return apply_impression(state, float(signal["timestamp"]), int(signal.get("count", 1)))
    event = Interaction(
        event_id=signal["event_id"],
        user_id=signal["user_id"],
        item_id=signal["item_id"],
        type=signal["type"],
        timestamp=float(signal["timestamp"]),
    )
    return apply_item_event(state, event)


async def apply_item_batch(batch: list[EventT]) -> None:
    """Fold a batch of item signals, writing each item once."""
    pending: dict[str, tuple[ItemState, EventT]] = {}
    for event in batch:
        item_id = event.key
        try:
            signal = decode_json(event.value)
            state = pending[item_id][0] if item_id in pending else _load_item(item_id)
            state = fold_signal(state, signal)
        except (ValueError, KeyError, TypeError) as error:
            await send_dead_letter(event, f"item signal: {error!r}")
            continue
        pending[item_id] = (state, event)
        EVENTS_PROCESSED.labels("item-signals", signal["kind"]).inc()
    for item_id, (state, event) in pending.items():
        write(tables.item_state, item_id, state.to_json(), event)


@app.agent(item_signals_topic)
async def count_item_events(stream: Any) -> None:
    """Windowed counters, trend and Thompson arm per item, from events and impressions."""
    async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
        await apply_item_batch(list(batch))


@app.agent(items_topic)
async def maintain_catalog(stream: Any) -> None:
    """Catalog upserts into a table every worker reads; a null value deletes (tombstone)."""
    async for event in stream.events():
        item_id = event.key
        try:
            upsert = None if event.value is None else parse_item(decode_json(event.value))
        except (ValueError, InvalidRecord) as error:
            await send_dead_letter(event, str(error))
            continue
        current = tables.catalog.get(item_id)
        entry = apply_upsert(
            CatalogEntry.from_json(current) if current else None, upsert, time.time()
        )
        write(tables.catalog, item_id, entry.to_json() if entry else None, event)
        EVENTS_PROCESSED.labels("items", "delete" if upsert is None else "upsert").inc()
