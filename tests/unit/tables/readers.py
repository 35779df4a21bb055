"""Reads of fold states that only the tests make: counts by window, the history as dicts."""

from __future__ import annotations

from typing import Any

from schemas.records import EVENT_TYPES
from tables.item import ItemState
from tables.user import HistoryEntry, UserState
from tables.windows import type_index, window_spec


def window_count(state: ItemState | None, event_type: str, window: str, now: float) -> int:
    """Events of `event_type` in `window` ("5m", "1h", "24h" or "all") ending at `now`."""
    if state is None:
        return 0
    position = type_index(event_type)
    if window == "all":
        return state.counts.get(event_type, 0)
    return state.windows.per_type(window_spec(window), now)[position]


def window_counts(state: ItemState | None, window: str, now: float) -> dict[str, int]:
    """Events of every type in `window` ending at `now`, by type."""
    if window == "all":
        return {} if state is None else state.counts.copy()
    spec = window_spec(window)
    if state is None:
        return {}
    per_type = state.windows.per_type(spec, now)
    return {
        event_type: count for event_type, count in zip(EVENT_TYPES, per_type, strict=True) if count
    }


def history_json(state: UserState | None) -> list[dict[str, Any]]:
    """The short-term history newest first, as dicts."""
    if state is None:
        return []
    return [HistoryEntry._make(row)._asdict() for row in reversed(state.rows)]
