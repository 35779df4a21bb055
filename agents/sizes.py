"""Table sizes for Prometheus: RocksDB's estimate of keys per local table, refreshed on a timer."""

from __future__ import annotations

from typing import Any

from agents.app import app, tables
from agents.metrics import TABLE_KEYS

REFRESH_S = 15.0


def estimated_keys(table: Any) -> int:
    """Keys held in a table's local partitions, as RocksDB estimates them (cheap)."""
    store = table.data
    total = 0
    for db in getattr(store, "_dbs", {}).values():
        total += int(db.property_int_value("rocksdb.estimate-num-keys") or 0)
    return total


@app.timer(REFRESH_S)
async def measure_tables() -> None:
    """Publish the estimated key count of every table."""
    for name, table in tables.all().items():
        TABLE_KEYS.labels(name).set(estimated_keys(table))
