"""Changelog records handed to the producer in the background, in order, per partition.

aiokafka lets a partition hold one record batch waiting to be sent: appending a second waits
until the first has left. An agent that waited there would pay a broker round trip per batch
of events, so `ChangelogSender` keeps a queue per partition with one task draining it, and
coalesces whatever queued while the previous batch was in flight into the next. Faust flushes
its producer before committing consumer offsets; `hook_producer_flush` makes that flush wait
for these queues too, so no event is committed before its table changes are with the producer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from faust.types import TP

from agents.runtime.patches import access
from streamrec.kafka import record_batches

Records = list[tuple[bytes, bytes | None]]
log = logging.getLogger(__name__)


class PartitionQueue:
    """Records waiting for one changelog partition, and the task that sends them in order;
    the table's store learns the partition's last written offset from each acknowledgement."""

    def __init__(self, tp: TP, producer: AIOKafkaProducer, store: Any) -> None:
        self.tp, self.producer, self.store = tp, producer, store
        self.records: Records = []
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.task = asyncio.ensure_future(self._run())

    def add(self, records: Iterable[tuple[bytes, bytes | None]]) -> None:
        """Queue records (sent after every record queued before them)."""
        self.records.extend(records)
        self.idle.clear()
        self.wake.set()

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            records, self.records = self.records, []
            try:
                await self._send(records)
            except Exception:  # the queue must outlive one failed batch
                log.exception("changelog %s: %d records not sent", self.tp, len(records))
            if not self.records:
                self.idle.set()

    async def _send(self, records: Records) -> None:
        for count, batch in record_batches(self.producer, records):
            sent = await self.producer.send_batch(batch, self.tp.topic, partition=self.tp.partition)
            sent.add_done_callback(lambda done, n=count: self._acknowledged(done, n))

    def _acknowledged(self, sent: asyncio.Future[Any], count: int) -> None:
        if sent.cancelled() or sent.exception() is not None:
            log.error("changelog %s: records not written: %r", self.tp, sent.exception())
            return
        if self.tp.partition in access.open_databases(self.store):
            self.store.set_persisted_offset(self.tp, sent.result().offset + count - 1)


class ChangelogSender:
    """One `PartitionQueue` per changelog partition, created on first use."""

    def __init__(self) -> None:
        self.queues: dict[TP, PartitionQueue] = {}

    def send(
        self,
        producer: AIOKafkaProducer,
        store: Any,
        tp: TP,
        records: Iterable[tuple[bytes, bytes | None]],
    ) -> None:
        """Queue `records` of `store`'s changelog partition `tp`."""
        queue = self.queues.get(tp)
        if queue is None:
            queue = self.queues[tp] = PartitionQueue(tp, producer, store)
        queue.add(records)

    async def drain(self) -> None:
        """Wait until every queued record has been handed to the producer."""
        for queue in list(self.queues.values()):
            await queue.idle.wait()


def hook_producer_flush(faust_producer: Any, sender: ChangelogSender) -> None:
    """Make the Faust producer's flush (run before every commit) drain `sender` first."""
    original = faust_producer.flush

    async def flush() -> None:
        await sender.drain()
        await original()

    faust_producer.flush = flush


CHANGELOG = ChangelogSender()
"""The worker's one sender: every batched table write goes through it."""
