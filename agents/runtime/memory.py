"""Tables and an outlet in memory: the transaction API without a broker or RocksDB (tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from agents.runtime.transaction import Emitted, Records, Runtime


@dataclass
class MemoryStore:
    """One table's partitions as dicts, and every record it logged, per partition."""

    partitions: dict[int, dict[bytes, bytes]] = field(default_factory=dict)
    changelog: dict[int, list[tuple[bytes, bytes | None]]] = field(default_factory=dict)

    def read(self, partition: int, key: bytes) -> bytes | None:
        """The stored value (None when absent)."""
        return self.partitions.get(partition, {}).get(key)

    def write(self, partition: int, records: Records) -> None:
        """Apply the records."""
        data = self.partitions.setdefault(partition, {})
        for key, value in records.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value

    def log(self, partition: int, records: Records) -> None:
        """Remember the records as the changelog would hold them."""
        self.changelog.setdefault(partition, []).extend(records.items())

    def value(self, key: str) -> Any:
        """The decoded value of `key` in whichever partition holds it (None when absent)."""
        for data in self.partitions.values():
            if key.encode() in data:
                return orjson.loads(data[key.encode()])
        return None

    def held_keys(self) -> set[str]:
        """Every key held."""
        return {key.decode() for data in self.partitions.values() for key in data}


@dataclass
class MemoryOutlet:
    """Every record sent, in order."""

    sent: list[Emitted] = field(default_factory=list)

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None
    ) -> Awaitable[Any]:
        """Remember the record (delivered at once)."""
        self.sent.append(Emitted(topic, key, value, partition))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered

    def log(self, topic: str, partition: int, records: Records) -> None:
        """Remember logged records as sent, in order."""
        for key, value in records.items():
            if value is not None:
                self.sent.append(Emitted(topic, key, value, partition))

    def values(self, topic: str) -> list[Any]:
        """The decoded values sent to `topic`."""
        return [orjson.loads(record.value) for record in self.sent if record.topic == topic]


def memory_runtime(tables: Iterable[str]) -> tuple[Runtime, dict[str, MemoryStore], MemoryOutlet]:
    """A runtime over empty in-memory tables of these names, with its stores and outlet."""
    stores = {name: MemoryStore() for name in tables}
    outlet = MemoryOutlet()
    return Runtime(stores, outlet), stores, outlet
