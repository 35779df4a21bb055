"""Writing many keys of a keyed RocksDB table at once: one changelog record batch per partition
and one RocksDB write batch, instead of Faust's changelog message and put per key.

As with Faust's own writes, RocksDB changes at once and the changelog follows (through
`agents.changelog`, in order per partition): each partition's persisted offset moves when the
broker acknowledges its records, and Faust's flush before every commit waits for them, so an
event is never committed before its state is in the changelog. Readers use the partition a key
lives in, never a scan of every partition's database.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from aiokafka import AIOKafkaProducer
from faust.types import TP
from rocksdict import WriteBatch

from agents.changelog import CHANGELOG, hook_producer_flush

Pending = dict[int, dict[bytes, bytes | None]]
_hooked: set[Any] = set()


class TableBatch:
    """Pending writes to one keyed table, grouped by partition, flushed together."""

    def __init__(self, table: Any) -> None:
        if table.key_serializer != "raw" or table.value_serializer not in (None, "json"):
            raise TypeError(f"table {table.name}: raw keys and JSON values are required")
        self.table = table
        self.pending: Pending = {}

    @property
    def store(self) -> Any:
        """The table's RocksDB store (created by Faust on first use)."""
        return self.table.data

    def get(self, key: str, partition: int) -> Any:
        """The stored value of `key` in `partition`'s database (None when absent)."""
        raw = self.store._db_for_partition(partition).get(key.encode())
        return None if raw is None else orjson.loads(raw)

    def put(self, key: str, value: Any, partition: int) -> None:
        """Queue `table[key] = value` (None: delete, leaving a tombstone) in `partition`."""
        self.put_encoded(key, None if value is None else orjson.dumps(value), partition)

    def put_encoded(self, key: str, encoded: bytes | None, partition: int) -> None:
        """Queue a value already encoded as JSON bytes (None: delete)."""
        self.pending.setdefault(partition, {})[key.encode()] = encoded

    def __len__(self) -> int:
        return sum(map(len, self.pending.values()))

    def flush(self, producer: AIOKafkaProducer) -> int:
        """Write RocksDB, queue the changelog records, and return how many keys were written."""
        topic = self.table.changelog_topic.get_topic_name()
        written = len(self)
        for partition, records in self.pending.items():
            self._write_partition(partition, records)
            CHANGELOG.send(producer, self.store, TP(topic, partition), records.items())
        self.pending = {}
        return written

    def _write_partition(self, partition: int, records: dict[bytes, bytes | None]) -> None:
        batch = WriteBatch(raw_mode=True)
        for key, value in records.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
            self.store._key_index[key] = partition
        self.store._db_for_partition(partition).write(batch)


def kafka_producer(app: Any) -> AIOKafkaProducer:
    """The started aiokafka producer under the Faust app's producer (its flush drains ours)."""
    client = app.producer._producer
    if client is None:
        raise RuntimeError("the app's producer has not started")
    if app.producer not in _hooked:
        hook_producer_flush(app.producer, CHANGELOG)
        _hooked.add(app.producer)
    return cast(AIOKafkaProducer, client)
