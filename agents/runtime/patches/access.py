"""Reads and writes of private attributes the runtime needs, one small function each."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aiokafka import AIOKafkaProducer
from faust.streams import _current_event
from faust.types import EventT
from mode.utils.aiter import aiter
from prometheus_client import Histogram


def rocksdb_of(store: Any, partition: int) -> Any:
    """The RocksDB database of one partition of a Faust RocksDB store (opened on first use)."""
    return store._db_for_partition(partition)


def note_partition(store: Any, key: bytes, partition: int) -> None:
    """Tell the store which partition holds `key`, as its own writes do."""
    store._key_index[key] = partition


def open_databases(store: Any) -> Mapping[int, Any]:
    """The store's open databases by partition."""
    dbs: Mapping[int, Any] = getattr(store, "_dbs", {})
    return dbs


def aiokafka_producer(app: Any) -> AIOKafkaProducer:
    """The started aiokafka producer under the Faust app's producer."""
    client: AIOKafkaProducer | None = app.producer._producer
    if client is None:
        raise RuntimeError("the app's producer has not started")
    return client


@contextmanager
def inside_event(event: EventT[Any]) -> Iterator[None]:
    """Make `event` the stream's current event, so a table write is filed under its partition."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def feed_passively(stream: Any) -> None:
    """Start the stream's channel feeding its processors without an `async for`."""
    stream._enable_passive(aiter(stream.channel))


def remove_processor(stream: Any, processor: Callable[..., Any]) -> None:
    """Take a processor added with `add_processor` off the stream."""
    stream._processors.remove(processor)


def read_offsets(consumer: Any) -> Mapping[Any, int | None]:
    """The offset the consumer last delivered, per partition."""
    offsets: Mapping[Any, int | None] = getattr(consumer, "_read_offset", {})
    return offsets


def observe_counts(histogram: Histogram, counts: Mapping[int, int], total: float) -> None:
    """Add `counts[i]` observations to bucket i and `total` to the sum of an unlabelled
    histogram, as that many `observe` calls would."""
    for index, count in counts.items():
        histogram._buckets[index].inc(count)
    histogram._sum.inc(total)


def bucket_bounds(histogram: Histogram) -> list[float]:
    """The upper bounds of an unlabelled histogram's buckets."""
    bounds: list[float] = histogram._upper_bounds
    return bounds


def raw_changelog_keys(table: Any) -> None:
    """Give a Faust table raw changelog keys (its changelog topic is rebuilt for them)."""
    table.key_serializer = "raw"
    table.changelog_topic = table._new_changelog_topic()
