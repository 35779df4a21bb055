"""The one faust.App of streamrec, its topics and tables; `faust -A agents.app worker` runs it."""

from __future__ import annotations

import faust

from agents import workarounds
from streamrec import topics as names
from streamrec.settings import Settings
from tables.declare import declare, store_options

settings = Settings.from_env()
workarounds.apply(settings)

PRODUCER_MAX_BATCH_BYTES = 1024 * 1024


def create_app(config: Settings) -> faust.App:
    """Build the Faust app for these settings (fast group joins, RocksDB tables, no Faust web)."""
    (config.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    return faust.App(
        config.app_id,
        broker=config.broker,
        store="rocksdb://",
        datadir=str(config.data_dir / "worker"),
        topic_partitions=config.partitions,
        topic_replication_factor=config.replication,
        table_standby_replicas=0,
        broker_session_timeout=config.session_timeout_s,
        broker_heartbeat_interval=config.session_timeout_s / 10,
        broker_rebalance_timeout=config.session_timeout_s,
        broker_request_timeout=30.0,
        consumer_auto_offset_reset="earliest",
        producer_linger=config.producer_linger_ms / 1000,
        # A partition holds one open record batch; a full one makes the next send wait for a
        # broker round trip, so batches fit a whole agent batch of changelog records.
        producer_max_batch_size=PRODUCER_MAX_BATCH_BYTES,
        stream_buffer_maxsize=8192,
        web_enabled=False,
        canonical_url=config.public_url,
        autodiscover=False,
    )


app = create_app(settings)

events_topic = app.topic(
    names.EVENTS, key_type=str, value_serializer="raw", partitions=settings.partitions
)
items_topic = app.topic(
    names.ITEMS, key_type=str, value_serializer="raw", partitions=settings.partitions
)
users_topic = app.topic(
    names.USERS, key_type=str, value_serializer="raw", partitions=settings.partitions
)
impressions_topic = app.topic(
    names.IMPRESSIONS, key_type=str, value_serializer="raw", partitions=settings.partitions
)
model_updates_topic = app.topic(
    names.MODEL_UPDATES, key_type=str, value_serializer="raw", partitions=1
)
dead_letters_topic = app.topic(
    names.DEAD_LETTERS, key_type=str, value_serializer="raw", partitions=1
)

# Internal, re-keyed streams: item-keyed signals and (experiment|variant)-keyed tally updates.
item_signals_topic = app.topic(
    names.ITEM_SIGNALS,
    key_type=str,
    value_serializer="raw",
    partitions=settings.partitions,
    internal=True,
)
tally_updates_topic = app.topic(
    names.TALLY_UPDATES,
    key_type=str,
    value_serializer="raw",
    partitions=settings.partitions,
    internal=True,
)

tables = declare(
    app,
    settings.partitions,
    store_options(settings.rocksdb_write_buffer_mb, settings.rocksdb_block_cache_mb),
)

# The actors register themselves on `app` when imported (they import `app` from here).
from agents import experiments, items, serving, sizes, users  # noqa: E402, F401
