"""The one faust.App of streamrec with its topics and tables; importing this module creates
nothing: `agents.worker.build_worker` builds a worker and installs the actors on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from agents.keys import KEY_SERIALIZER
from agents.runtime.stores import faust_runtime
from agents.runtime.tables import Tables, declare, store_options
from agents.runtime.transaction import Runtime
from streamrec import topics as names
from streamrec.settings import Settings

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


@dataclass(frozen=True)
class Topics:
    """The app's topics: those of `streamrec.topics` and the internal, re-keyed stream."""

    events: Any
    items: Any
    users: Any
    impressions: Any
    model_updates: Any
    experiments: Any
    """Followed whole by every worker (`agents.experiment_feed`), not by a group member."""
    dead_letters: Any
    item_signals: Any
    """Applied events and impressions keyed by item."""
    item_summaries: Any
    """What serving reads of each item, written by its owner, read whole by every worker."""


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare every topic on `app`; values stay raw bytes (the actors decode them), keys are
    text that never fails to decode (the actors check them)."""

    def keyed(name: str, internal: bool = False, partitions: int = settings.partitions) -> Any:
        return app.topic(
            name,
            key_type=str,
            key_serializer=KEY_SERIALIZER,
            value_serializer="raw",
            partitions=partitions,
            internal=internal,
        )

    def single(name: str) -> Any:
        return keyed(name, partitions=1)

    return Topics(
        events=keyed(names.EVENTS),
        items=keyed(names.ITEMS),
        users=keyed(names.USERS),
        impressions=keyed(names.IMPRESSIONS),
        model_updates=single(names.MODEL_UPDATES),
        experiments=single(names.EXPERIMENTS),
        dead_letters=single(names.DEAD_LETTERS),
        item_signals=keyed(names.ITEM_SIGNALS, internal=True),
        item_summaries=app.topic(
            names.item_summaries_topic(settings.app_id),
            key_type=str,
            value_serializer="raw",
            partitions=settings.partitions,
            internal=True,
            compacting=True,
        ),
    )


@dataclass(frozen=True)
class Worker:
    """One worker's settings, app, topics and tables, and the runtime its actors read and write
    the tables through: what the actor modules install on."""

    settings: Settings
    app: faust.App
    topics: Topics
    tables: Tables
    runtime: Runtime


def new_worker(settings: Settings) -> Worker:
    """The app of these settings with its topics and tables, no actor on it yet."""
    app = create_app(settings)
    options = store_options(settings.rocksdb_write_buffer_mb, settings.rocksdb_block_cache_mb)
    tables = declare(app, settings.partitions, options)
    return Worker(
        settings=settings,
        app=app,
        topics=declare_topics(app, settings),
        tables=tables,
        runtime=faust_runtime(app, tables.all()),
    )
