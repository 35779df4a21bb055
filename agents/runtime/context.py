"""Writing a table key once per batch on behalf of an event carrying that key; batched signals.

Faust's RocksDB store files a write under the partition of the *current* event; in a batch that
is the last event taken, whatever its partition. Writing each key under one of its own events
keeps every key in its partition's database and changelog.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from aiokafka.partitioner import murmur2
from faust.types import EventT

from agents.runtime.patches import access
from agents.runtime.transaction import Transaction

PARTITION_CACHE_SIZE = 1 << 16


def write(table: Any, key: str, value: Any, event: EventT[Any]) -> None:
    """Set `table[key] = value` (None deletes, leaving a tombstone) as if inside `event`."""
    with access.inside_event(event):
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value


@lru_cache(maxsize=PARTITION_CACHE_SIZE)
def partition_for(key: str, partitions: int) -> int:
    """The partition the producer's default partitioner picks for a raw str key (murmur2)."""
    return (int(murmur2(key.encode())) & 0x7FFFFFFF) % partitions


class SignalBatch:
    """Item signals of one batch, sent as one message per partition of the item-keyed topic.

    Each row starts with its item_id; a message goes to the partition that owns every item in
    it, so the item actor finds and writes each item in its own partition, as if keyed by item.
    """

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.rows: dict[int, list[list[Any]]] = {}

    def add(self, row: list[Any]) -> None:
        """Queue one signal row: [item_id, signal_id, kind, timestamp, count]."""
        partition = partition_for(row[0], self.partitions)
        self.rows.setdefault(partition, []).append(row)

    def emit(self, transaction: Transaction, topic: str) -> int:
        """Emit the queued rows in `transaction` (one message per partition); return how many."""
        for partition, rows in self.rows.items():
            transaction.emit(topic, str(rows[0][0]), orjson.dumps(rows), partition)
        sent = sum(map(len, self.rows.values()))
        self.rows = {}
        return sent
