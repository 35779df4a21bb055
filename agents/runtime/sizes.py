"""Table sizes and consumer lag for Prometheus, refreshed on a timer; the heap settled at start
and its freed memory handed back to the system on a timer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from agents.runtime.heap import release_freed, settle
from agents.runtime.metrics import CONSUMER_LAG, TABLE_KEYS
from agents.runtime.patches import access

REFRESH_S = 15.0
RELEASE_S = 15.0


def estimated_keys(table: Any) -> int:
    """Keys held in a table's local partitions, as RocksDB estimates them (cheap)."""
    total = 0
    for db in access.open_databases(table.data).values():
        total += int(db.property_int_value("rocksdb.estimate-num-keys") or 0)
    return total


def record_lag(app: Any) -> None:
    """Records between what this worker has read and each assigned partition's high watermark."""
    consumer: Any = app.consumer
    read = access.read_offsets(consumer)
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        position = read.get(tp)
        if highwater is not None and position is not None:
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(highwater - position - 1, 0))


def install(app: Any, tables: Mapping[str, Any]) -> None:
    """Register the table and lag gauges, and the heap's settling and release, on the app."""

    @app.timer(REFRESH_S)
    async def measure_tables() -> None:
        """Publish the estimated key count of every table."""
        for name, table in tables.items():
            TABLE_KEYS.labels(name).set(estimated_keys(table))
        record_lag(app)

    @app.task
    async def settle_heap() -> None:
        """Once the worker is up, move what startup built out of the collector's way and space
        later collections out (`agents.runtime.heap`)."""
        settle()

    @app.timer(RELEASE_S)
    async def release_memory() -> None:
        """Hand the C heap's freed pages back to the system, off the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, release_freed)
