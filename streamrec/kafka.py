"""Thin aiokafka helpers shared by the CLI and offline jobs: producing in bulk, reading ranges."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import TopicPartition
from tqdm import tqdm

from streamrec.errors import BrokerError
from streamrec.settings import Settings

CHUNK = 20_000
_partitioner = DefaultPartitioner()
HIGHWATER_FETCH_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


Client = TypeVar("Client", AIOKafkaProducer, AIOKafkaConsumer)


@asynccontextmanager
async def _started(client: Client, settings: Settings) -> AsyncIterator[Client]:
    """Start a client, turning an unreachable broker into a BrokerError; stop it on exit."""
    try:
        await client.start()
    except KafkaError as error:
        await client.stop()
        raise BrokerError(f"cannot reach the broker at {settings.broker}: {error}") from error
    try:
        yield client
    finally:
        await client.stop()


def producer(
    settings: Settings, linger_ms: int = 20
) -> AbstractAsyncContextManager[AIOKafkaProducer]:
    """A started producer for the configured broker; a clear error when it is unreachable."""
    client = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        linger_ms=linger_ms,
        max_batch_size=1024 * 1024,
        acks=1,
    )
    return _started(client, settings)


def consumer(
    settings: Settings, fetch_wait_ms: int = 50
) -> AbstractAsyncContextManager[AIOKafkaConsumer]:
    """A started group-less consumer for reading topic ranges (the broker may hold each fetch
    up to `fetch_wait_ms` when there is nothing to read)."""
    client = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=fetch_wait_ms,
        max_poll_records=5000,
    )
    return _started(client, settings)


class RateLimiter:
    """Keeps a loop at or under `rate` records per second (None: unlimited)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.sent = 0

    async def admit(self, count: int) -> None:
        """Wait until `count` more records fit in the budget."""
        self.sent += count
        if not self.rate:
            return
        ahead = self.sent / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            await asyncio.sleep(ahead)


async def send_all(
    client: AIOKafkaProducer,
    topic: str,
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    *,
    progress: bool = True,
    rate: float | None = None,
) -> int:
    """Send keyed values in per-partition record batches, waiting for the broker's acks.

    Records go to the partition the default (murmur2) partitioner picks for their key, as a
    keyed `send` would; building batches directly skips aiokafka's per-message bookkeeping.
    """
    limiter = RateLimiter(rate)
    partitions = sorted(await client.partitions_for(topic))
    with tqdm(total=len(values), unit="rec", disable=not progress, desc=topic) as bar:
        for start in range(0, len(values), CHUNK):
            stop = min(start + CHUNK, len(values))
            await limiter.admit(stop - start)
            futures = await _send_chunk(client, topic, partitions, keys, values, range(start, stop))
            await asyncio.gather(*futures)
            bar.update(stop - start)
    return len(values)


async def _send_chunk(
    client: AIOKafkaProducer,
    topic: str,
    partitions: list[int],
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    indexes: range,
) -> list[asyncio.Future[object]]:
    by_partition: dict[int, list[tuple[bytes | None, bytes | None]]] = {}
    for i in indexes:
        partition = _partitioner(keys[i], partitions, partitions)
        by_partition.setdefault(partition, []).append((keys[i], values[i]))
    futures = []
    for partition, pairs in by_partition.items():
        for _, batch in record_batches(client, pairs):
            futures.append(await client.send_batch(batch, topic, partition=partition))
    return futures


def record_batches(
    client: AIOKafkaProducer, pairs: Iterable[tuple[bytes | None, bytes | None]]
) -> Iterator[tuple[int, BatchBuilder]]:
    """The (key, value) records as full aiokafka record batches, each with its record count."""
    batch, count = client.create_batch(), 0
    for key, value in pairs:
        if batch.append(key=key, value=value, timestamp=None) is None:
            yield count, batch
            batch, count = client.create_batch(), 0
            batch.append(key=key, value=value, timestamp=None)
        count += 1
    if count:
        yield count, batch


async def partitions_for(client: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The partitions of a topic, or an error naming it when it does not exist."""
    if topic not in await client.topics():
        raise BrokerError(f"topic {topic!r} does not exist on the broker")
    parts = client.partitions_for_topic(topic)
    if not parts:
        raise BrokerError(f"topic {topic!r} does not exist on the broker")
    return [TopicPartition(topic, p) for p in sorted(parts)]


async def end_offsets(
    settings: Settings, client: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """True end offsets (high watermarks), correct even where ListOffsets is not."""
    listed = await client.end_offsets(tps)
    return await true_highwaters(settings.bootstrap_servers, listed)


async def true_highwaters(
    bootstrap_servers: list[str], listed: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Correct listed end offsets with the high watermark a Fetch of the last batch reports."""
    result = dict(listed)
    pending = {tp: offset for tp, offset in listed.items() if offset and offset > 0}
    if not pending:
        return result
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await probe.start()
    try:
        probe.assign(list(pending))
        for tp, offset in pending.items():
            probe.seek(tp, offset - 1)
        result.update(await _read_highwaters(probe, set(pending)))
    finally:
        await probe.stop()
    return result


async def _read_highwaters(
    probe: AIOKafkaConsumer, tps: set[TopicPartition]
) -> dict[TopicPartition, int]:
    found: dict[TopicPartition, int] = {}
    deadline = asyncio.get_running_loop().time() + HIGHWATER_FETCH_TIMEOUT_S
    while tps - found.keys() and asyncio.get_running_loop().time() < deadline:
        await probe.getmany(*(tps - found.keys()), timeout_ms=200)
        for tp in tps - found.keys():
            highwater = probe.highwater(tp)
            if highwater is not None:
                found[tp] = highwater
    if tps - found.keys():
        log.warning("no high watermark fetched for %s; using listed offsets", tps - found.keys())
    return found


async def follow(
    settings: Settings,
    topic: str,
    started: Callable[[AIOKafkaConsumer], object] = lambda client: client,
) -> AsyncIterator[bytes | None]:
    """The newest record of each partition of `topic`, then every record appended after it
    (fetches wait STREAMREC_FETCH_WAIT_MS; `started` sees the consumer first)."""
    async with consumer(settings, settings.fetch_wait_ms) as client:
        started(client)
        tps = await partitions_for(client, topic)
        ends = await end_offsets(settings, client, tps)
        client.assign(tps)
        for tp in tps:
            client.seek(tp, max(ends[tp] - 1, 0))
        while True:
            batch = await client.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    yield record.value


async def read_whole(
    settings: Settings,
    topic: str,
    start: Callable[[int], int],
    apply: Callable[[int, list[Any]], Awaitable[None]],
    loaded: Callable[[], None],
    started: Callable[[AIOKafkaConsumer], object] = lambda client: client,
) -> None:
    """Read every partition of `topic` from offset `start(partition)` for ever, handing each
    fetched batch of records to `apply(partition, records)`; call `loaded` once the end
    offsets found at the start are applied. No group: partitions never move. Fetches wait
    STREAMREC_FETCH_WAIT_MS; `started` sees the consumer first."""
    async with consumer(settings, settings.fetch_wait_ms) as client:
        started(client)
        tps = await partitions_for(client, topic)
        ends = await end_offsets(settings, client, tps)
        client.assign(tps)
        behind = set()
        for tp in tps:
            client.seek(tp, start(tp.partition))
            if start(tp.partition) < ends[tp]:
                behind.add(tp)
        if not behind:
            loaded()
        while True:
            batch = await client.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                await apply(tp.partition, records)
                if tp in behind and records[-1].offset + 1 >= ends[tp]:
                    behind.discard(tp)
                    if not behind:
                        loaded()


async def keep_reading(what: str, read: Callable[[], Awaitable[None]], retry_s: float) -> None:
    """Run `read` for ever: after a failure (the broker may be away for a while) log it and
    start again `retry_s` later."""
    while True:
        try:
            await read()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("following %s failed, retrying: %r", what, error)
            await asyncio.sleep(retry_s)
