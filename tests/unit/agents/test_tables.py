"""Table declaration: every table's RocksDB databases get the worker's memory limits."""

from __future__ import annotations

import faust

from agents.runtime.tables import MEMTABLES_PER_DATABASE, MIB, declare, store_options


def test_store_options_bound_memtables_and_block_cache() -> None:
    assert store_options(8, 4) == {
        "write_buffer_size": 8 * MIB,
        "max_write_buffer_number": MEMTABLES_PER_DATABASE,
        "block_cache_size": 4 * MIB,
    }


def test_every_table_is_declared_with_the_store_options() -> None:
    app = faust.App("declare-test", broker="kafka://127.0.0.1:1", store="memory://")
    options = store_options(8, 4)
    tables = declare(app, 4, options)
    for table in tables.all().values():
        assert table.options == options
        assert table.options is not options  # Faust's store pops keys from the dict it gets
