"""Writing a table key once per batch, on behalf of the event that carries that key.

Faust's RocksDB store files a write under the partition of the *current* event; in a batch that
is the last event taken, whatever its partition. Writing each key under one of its own events
keeps every key in its partition's database and changelog.
"""

from __future__ import annotations

import weakref
from typing import Any

from faust.streams import _current_event
from faust.types import EventT


def write(table: Any, key: str, value: Any, event: EventT) -> None:
    """Set `table[key] = value` (None deletes, leaving a tombstone) as if inside `event`."""
    token = _current_event.set(weakref.ref(event))
    try:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    finally:
        _current_event.reset(token)
