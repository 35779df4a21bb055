"""One transaction per batch: how an actor reads and changes tables and sends records.

An actor decodes its batch, folds it through `get`, `put`, `delete` and `emit` without
yielding to the event loop, and then awaits `commit`, which runs in numbered steps:
1. the folds are done: what the batch changed is taken as it stands;
2. forwarded records: what the batch emitted (item signals, dead letters, re-routed events),
   sent and acknowledged by the broker before any table write, because the writes mark the
   batch's events applied: a worker killed after writing them but before its item signals left
   would drop the replayed events as duplicates and the item counters would never see them
   (the transaction yields here: actors whose transactions change the same keys hold a shared
   lock around their batches, see `agents.tallies`);
3. RocksDB: one write batch per table partition;
4. changelog: each table partition's records queued for its changelog partition, in order,
   with the records the batch logged to other topics the same way (`log`: item summaries,
   which are rewritten whole by every later batch and so need no earlier acknowledgement); a
   consumer offset is committed only after they reach the producer, see `changelog`.
Keys are text and values JSON, as in every table of the worker. The stores behind a
transaction are RocksDB tables in a worker (`agents.runtime.stores`) or dicts in tests
(`agents.runtime.memory`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

Records = dict[bytes, bytes | None]
"""A partition's writes: encoded key to encoded value (None deletes)."""


class TableStore(Protocol):
    """The partitions of one table: read a key, write a batch, queue its changelog."""

    def read(self, partition: int, key: bytes) -> bytes | None:
        """The stored value of `key` in `partition` (None when absent)."""

    def write(self, partition: int, records: Records) -> None:
        """Apply `records` to `partition` at once."""

    def log(self, partition: int, records: Records) -> None:
        """Queue `records` for the changelog partition of `partition`."""


class Outlet(Protocol):
    """Where emitted and logged records go."""

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None
    ) -> Awaitable[Any]:
        """Hand one record to the producer (None partition: the key's default partition);
        awaiting the result waits until the broker has it."""

    def log(self, topic: str, partition: int, records: Records) -> None:
        """Queue records for one topic partition in order, as a changelog is queued."""


@dataclass(frozen=True, slots=True)
class Emitted:
    """One record a batch sends when it commits."""

    topic: str
    key: bytes | None
    value: bytes
    partition: int | None = None


@dataclass(frozen=True)
class Runtime:
    """The tables (by name) and the outlet one worker's actors use."""

    stores: Mapping[str, TableStore]
    outlet: Outlet

    def transaction(self) -> Transaction:
        """A new, empty transaction over these stores."""
        return Transaction(self)

    def read(self, table: str, key: str, partition: int) -> Any:
        """The decoded value of `key` outside any transaction (None when absent)."""
        raw = self.stores[table].read(partition, key.encode())
        return None if raw is None else orjson.loads(raw)


@dataclass
class Transaction:
    """The reads, writes and sends of one batch; `commit` applies them in order."""

    runtime: Runtime
    writes: dict[str, dict[int, Records]] = field(default_factory=dict)
    emitted: list[Emitted] = field(default_factory=list)
    logged: dict[tuple[str, int], Records] = field(default_factory=dict)

    def get(self, table: str, key: str, partition: int) -> Any:
        """The value of `key` as this transaction left it, else as stored (None when absent)."""
        encoded = key.encode()
        pending = self.writes.get(table, {}).get(partition)
        if pending is not None and encoded in pending:
            raw = pending[encoded]
        else:
            raw = self.runtime.stores[table].read(partition, encoded)
        return None if raw is None else orjson.loads(raw)

    def put(self, table: str, key: str, value: Any, partition: int) -> None:
        """Set `table[key] = value` (None deletes, leaving a tombstone) in `partition`."""
        self.put_encoded(table, key, None if value is None else orjson.dumps(value), partition)

    def put_encoded(self, table: str, key: str, encoded: bytes | None, partition: int) -> None:
        """`put` of a value already encoded as JSON bytes (None deletes)."""
        self.writes.setdefault(table, {}).setdefault(partition, {})[key.encode()] = encoded

    def delete(self, table: str, key: str, partition: int) -> None:
        """Delete `key` from `partition` (a tombstone in the changelog)."""
        self.put(table, key, None, partition)

    def emit(self, topic: str, key: str | None, value: bytes, partition: int | None = None) -> None:
        """Send a record when the transaction commits, before its table changes are written."""
        self.emitted.append(Emitted(topic, None if key is None else key.encode(), value, partition))

    def log(self, topic: str, partition: int, key: str, value: bytes | None) -> None:
        """Queue a record for a topic partition with the changelog (step 4), the last one per
        key: for compacted topics that back no table here."""
        self.logged.setdefault((topic, partition), {})[key.encode()] = value

    def __len__(self) -> int:
        return sum(len(records) for parts in self.writes.values() for records in parts.values())

    async def commit(self) -> int:
        """Write, log and send what the batch did (see the module's steps); the keys written."""
        writes, emitted, logged = self.writes, self.emitted, self.logged  # 1. folds done
        self.writes, self.emitted, self.logged = {}, [], {}
        written = sum(len(r) for parts in writes.values() for r in parts.values())
        outlet = self.runtime.outlet
        sent = [await outlet.send(r.topic, r.key, r.value, r.partition) for r in emitted]
        for delivery in sent:  # 2. forwarded records, acknowledged
            await delivery
        for table, parts in writes.items():  # 3. RocksDB, one write batch per partition
            store = self.runtime.stores[table]
            for partition, records in parts.items():
                store.write(partition, records)
        for table, parts in writes.items():  # 4. changelog, in order per partition
            store = self.runtime.stores[table]
            for partition, records in parts.items():
                store.log(partition, records)
        for (topic, partition), records in logged.items():
            outlet.log(topic, partition, records)
        return written
