"""The transaction API over a worker's Faust RocksDB tables and its Kafka producer.

As with Faust's own writes, RocksDB changes at once and the changelog follows (through
`agents.runtime.changelog`, in order per partition): each partition's persisted offset moves
when the broker acknowledges its records, and Faust's flush before every commit waits for them,
so an event is never committed before its state is in the changelog. Reads use the partition a
key lives in, never a scan of every partition's database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from faust.types import TP
from rocksdict import WriteBatch

from agents.runtime.changelog import CHANGELOG, hook_producer_flush
from agents.runtime.patches import access
from agents.runtime.transaction import Records, Runtime

_hooked: set[Any] = set()


def producer_of(app: Any) -> AIOKafkaProducer:
    """The app's started aiokafka producer; Faust's flush before a commit also drains the
    changelog queues."""
    client = access.aiokafka_producer(app)
    if app.producer not in _hooked:
        hook_producer_flush(app.producer, CHANGELOG)
        _hooked.add(app.producer)
    return client


class RocksTable:
    """One keyed Faust table with raw keys and JSON values, read and written per partition."""

    def __init__(self, app: Any, table: Any) -> None:
        if table.key_serializer != "raw" or table.value_serializer not in (None, "json"):
            raise TypeError(f"table {table.name}: raw keys and JSON values are required")
        self.app, self.table = app, table

    @property
    def store(self) -> Any:
        """The table's RocksDB store (created by Faust on first use)."""
        return self.table.data

    def read(self, partition: int, key: bytes) -> bytes | None:
        """The stored value of `key` in `partition`'s database."""
        raw: bytes | None = access.rocksdb_of(self.store, partition).get(key)
        return raw

    def write(self, partition: int, records: Records) -> None:
        """One RocksDB write batch for the partition."""
        batch = WriteBatch(raw_mode=True)
        for key, value in records.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
            access.note_partition(self.store, key, partition)
        access.rocksdb_of(self.store, partition).write(batch)

    def log(self, partition: int, records: Records) -> None:
        """Queue the records for the table's changelog partition."""
        topic = self.table.changelog_topic.get_topic_name()
        CHANGELOG.send(producer_of(self.app), self.store, TP(topic, partition), records.items())


class KafkaOutlet:
    """Emitted records straight to the aiokafka producer under the app's (Faust's own send
    costs more than a record), so Faust's flush before a commit still covers them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None
    ) -> Awaitable[Any]:
        """Hand the record to the producer; the result resolves once the broker has it."""
        delivery: Awaitable[Any] = await producer_of(self.app).send(
            topic, value, key=key, partition=partition
        )
        return delivery

    def log(self, topic: str, partition: int, records: Records) -> None:
        """Queue records through the changelog sender (no table store behind them)."""
        CHANGELOG.send(producer_of(self.app), None, TP(topic, partition), records.items())


def faust_runtime(app: Any, tables: Mapping[str, Any]) -> Runtime:
    """The runtime of a worker: its keyed tables by name and its producer."""
    return Runtime(
        {name: RocksTable(app, table) for name, table in tables.items()}, KafkaOutlet(app)
    )
