"""The Faust tables of streamrec, created on the app they are given.

Keyed tables use the producer's partitioner on raw keys, so a key's changelog partition is the
partition of the topic that carries that key: agents may then write each key once per batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents.runtime.patches import access

MIB = 1024 * 1024
MEMTABLES_PER_DATABASE = 2

USER_STATE = "user_state"
USER_CONSENT = "user_consent"
ITEM_STATE = "item_state"
CATALOG = "catalog"
VARIANT_TALLIES = "variant_tallies"


@dataclass(frozen=True)
class Tables:
    """Handles on every table; values are the JSON forms of the state types in `tables/`."""

    user_state: Any
    user_consent: Any
    item_state: Any
    catalog: Any
    variant_tallies: Any

    def all(self) -> dict[str, Any]:
        """Every table by name."""
        return {
            USER_STATE: self.user_state,
            USER_CONSENT: self.user_consent,
            ITEM_STATE: self.item_state,
            CATALOG: self.catalog,
            VARIANT_TALLIES: self.variant_tallies,
        }


def _raw_keys(table: Any) -> Any:
    # Changelog keys default to JSON (b'"u1"'), which the producer's partitioner hashes to a
    # different partition than the topic's raw key (b'u1'): keep them raw so they agree.
    access.raw_changelog_keys(table)
    return table


def store_options(write_buffer_mb: int, block_cache_mb: int) -> dict[str, int]:
    """RocksDB options of one table partition's database: its memtables and block cache.

    Faust's defaults (three 64 MiB memtables and a 2 GiB block cache for every database, and a
    worker opens one database per table and partition) let a worker's memory grow by gigabytes.
    """
    return {
        "write_buffer_size": write_buffer_mb * MIB,
        "max_write_buffer_number": MEMTABLES_PER_DATABASE,
        "block_cache_size": block_cache_mb * MIB,
    }


def _keyed(app: Any, name: str, partitions: int, help_text: str, options: Mapping[str, int]) -> Any:
    table = app.Table(
        name,
        key_type=str,
        partitions=partitions,
        use_partitioner=True,
        help=help_text,
        options=dict(options),
    )
    return _raw_keys(table)


def declare(app: Any, partitions: int, options: Mapping[str, int]) -> Tables:
    """Create every table on `app`, each partition's RocksDB database opened with `options`."""
    return Tables(
        user_state=_keyed(app, USER_STATE, partitions, "user_id -> UserState", options),
        user_consent=_keyed(app, USER_CONSENT, partitions, "user_id -> ConsentState", options),
        item_state=_keyed(app, ITEM_STATE, partitions, "item_id -> ItemState", options),
        catalog=_raw_keys(
            app.GlobalTable(
                CATALOG,
                key_type=str,
                partitions=partitions,
                help="item_id -> CatalogEntry (every worker)",
                options=dict(options),
            )
        ),
        variant_tallies=_keyed(
            app,
            VARIANT_TALLIES,
            partitions,
            "per user partition: u|user -> UserExposure, t|arm|p -> VariantSums, s|p|slot -> ids",
            options,
        ),
    )
