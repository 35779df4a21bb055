"""Lake export: the records after the stored offsets up to the end offsets seen at the start,
one Parquet file per partition per export.

Each partition's new records stream into one staging file (row groups of ROW_GROUP_ROWS);
when every assigned partition is caught up the files are renamed to their final names and
`_offsets.json` is replaced once. A failed attempt leaves nothing behind and is retried from
the stored offsets; an interrupted one leaves at most files that the next export's larger
range covers, which `heal` removes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, KafkaTimeoutError
from tqdm import tqdm

from offline.consent import Consents
from offline.lake_files import Offsets, part_path, read_offsets, staging_path, write_offsets
from offline.lake_rows import SCHEMAS, Row, flatten
from streamrec.errors import BrokerError
from streamrec.kafka import true_highwaters
from streamrec.topics import EVENTS, IMPRESSIONS

POLL_MS = 200
FETCH_WAIT_MS = 40
STALL_S = 30.0
ROW_GROUP_ROWS = 100_000
WITHHELD_TOPICS = (EVENTS, IMPRESSIONS)
"""Topics whose rows of erased or opted-out users are not written."""
ATTEMPTS = 5
RETRY_S = 1.0
log = logging.getLogger(__name__)


@dataclass
class ExportSummary:
    """What one export wrote: rows and files per topic, records skipped or withheld."""

    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    withheld: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missing_topics: list[str] = field(default_factory=list)
    attempts: int = 1
    compacted: int = 0

    def absorb(self, other: ExportSummary) -> None:
        """Add the counts of another export of other topics."""
        for mine, theirs in (
            (self.rows, other.rows),
            (self.files, other.files),
            (self.skipped, other.skipped),
            (self.withheld, other.withheld),
        ):
            for topic, count in theirs.items():
                mine[topic] += count
        self.missing_topics += other.missing_topics
        self.attempts = max(self.attempts, other.attempts)
        self.compacted += other.compacted


class PartitionFile:
    """This export's rows of one partition, streamed into one staging Parquet file."""

    def __init__(
        self, lake: Path, tp: TopicPartition, first: int, consent: Consents | None = None
    ) -> None:
        self.lake = lake
        self.tp = tp
        self.first = first
        self.next = first
        self.rows = 0
        self.skipped = 0
        self.withheld = 0
        self._consent = consent if tp.topic in WITHHELD_TOPICS else None
        self._buffer: list[Row] = []
        self._staging = staging_path(part_path(lake, tp.topic, tp.partition, first, first))
        self._writer: pq.ParquetWriter | None = None

    def add(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Append one record's row (or count it as skipped)."""
        self.next = record.offset + 1
        row = flatten(self.tp.topic, record.key, record.value)
        if row is None:
            self.skipped += 1
            return
        if self._consent is not None and not self._consent.stores(
            row.get("user_id"), row.get("timestamp")
        ):
            self.withheld += 1
            return
        self._buffer.append(row)
        if len(self._buffer) >= ROW_GROUP_ROWS:
            self._write()

    def _write(self) -> None:
        if not self._buffer:
            return
        table = pa.Table.from_pylist(self._buffer, schema=SCHEMAS[self.tp.topic])
        if self._writer is None:
            self._staging.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._staging, table.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows
        self._buffer.clear()

    def publish(self) -> Path | None:
        """Close the file and give it its final name; None when no record made a row."""
        self._write()
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        final = part_path(self.lake, self.tp.topic, self.tp.partition, self.first, self.next)
        os.replace(self._staging, final)
        return final

    def discard(self) -> None:
        """Drop the staging file (a failed attempt)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._staging.unlink(missing_ok=True)


class LakeWriter:
    """The partition files of one export attempt."""

    def __init__(self, lake: Path, consent: Consents | None = None) -> None:
        self.lake = lake
        self.consent = consent
        self.files: dict[TopicPartition, PartitionFile] = {}

    def add(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        """Route one record to its partition's file."""
        file = self.files.get(tp)
        if file is None:
            file = self.files[tp] = PartitionFile(self.lake, tp, record.offset, self.consent)
        file.add(record)

    def publish(self, offsets: Offsets, summary: ExportSummary) -> None:
        """Rename every file to its final name, then store the new offsets once."""
        for tp, file in sorted(self.files.items()):
            if file.publish() is not None:
                summary.files[tp.topic] += 1
            summary.rows[tp.topic] += file.rows
            summary.skipped[tp.topic] += file.skipped
            summary.withheld[tp.topic] += file.withheld
            offsets.setdefault(tp.topic, {})[tp.partition] = file.next
        self.files.clear()
        write_offsets(self.lake, offsets)

    def discard(self) -> None:
        """Drop every staging file left by a failed attempt."""
        for file in self.files.values():
            file.discard()
        self.files.clear()


async def _assign(
    consumer: AIOKafkaConsumer, topics: Sequence[str], offsets: Offsets, summary: ExportSummary
) -> list[TopicPartition]:
    existing = await consumer.topics()
    tps: list[TopicPartition] = []
    for topic in topics:
        if topic not in existing:
            summary.missing_topics.append(topic)
            continue
        partitions = consumer.partitions_for_topic(topic) or set()
        tps += [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    fresh = [tp for tp in tps if tp.partition not in offsets.get(tp.topic, {})]
    if fresh:
        await consumer.seek_to_beginning(*fresh)
    for tp in tps:
        if tp not in fresh:
            consumer.seek(tp, offsets[tp.topic][tp.partition])
    return tps


async def _targets(
    consumer: AIOKafkaConsumer, bootstrap_servers: list[str], tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The end offset of each partition now: the export stops there, even beside producers."""
    if not tps:
        return {}
    return await true_highwaters(bootstrap_servers, await consumer.end_offsets(tps))


async def _drain(
    consumer: AIOKafkaConsumer,
    targets: dict[TopicPartition, int],
    writer: LakeWriter,
    bar: tqdm,
) -> None:
    pending = [tp for tp, end in targets.items() if await consumer.position(tp) < end]
    quiet_since = time.monotonic()
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=POLL_MS, max_records=10_000)
        received = 0
        for tp, records in batches.items():
            for record in records:
                writer.add(tp, record)
            received += len(records)
        bar.update(received)
        if received:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > STALL_S:
            raise KafkaTimeoutError(f"no record for {STALL_S:.0f} s below the end offsets")
        pending = [tp for tp in pending if await consumer.position(tp) < targets[tp]]


def _cancelled_from_outside() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _stop(consumer: AIOKafkaConsumer) -> None:
    """Stop the consumer. aiokafka re-raises the cancellation of a fetch task that was
    sleeping after a failed fetch; that one is not ours and must not fail the export."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        if _cancelled_from_outside():
            raise
        log.debug("a cancelled fetch task surfaced while stopping the consumer")


async def _attempt(
    bootstrap_servers: list[str],
    lake: Path,
    topics: Sequence[str],
    summary: ExportSummary,
    progress: bool,
    consent: Consents | None,
) -> None:
    offsets = read_offsets(lake)
    writer = LakeWriter(lake, consent)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=FETCH_WAIT_MS,
    )
    try:
        await consumer.start()
        tps = await _assign(consumer, topics, offsets, summary)
        targets = await _targets(consumer, bootstrap_servers, tps)
        starts = [await consumer.position(tp) for tp in tps]
        total = sum(targets.values()) - sum(starts)
        with tqdm(
            desc="lake export",
            unit="rec",
            total=total,
            file=sys.stderr,
            disable=None if progress else True,
        ) as bar:
            await _drain(consumer, targets, writer, bar)
        writer.publish(offsets, summary)
    finally:
        writer.discard()
        await _stop(consumer)


async def export_with_retries(
    bootstrap_servers: list[str],
    lake: Path,
    topics: Sequence[str],
    *,
    progress: bool,
    consent: Consents | None = None,
) -> ExportSummary:
    """Run attempts until one exports everything; each starts again from the stored offsets."""
    for attempt in range(1, ATTEMPTS + 1):
        summary = ExportSummary(attempts=attempt)
        try:
            await _attempt(bootstrap_servers, lake, topics, summary, progress, consent)
            return summary
        except asyncio.CancelledError:
            if _cancelled_from_outside():
                raise
            problem = "a consumer task was cancelled"
        except KafkaError as error:
            problem = str(error) or type(error).__name__
        if attempt == ATTEMPTS:
            raise BrokerError(f"lake export failed after {ATTEMPTS} attempts: {problem}")
        log.warning("lake export attempt %d failed (%s); retrying", attempt, problem)
        await asyncio.sleep(RETRY_S)
    raise AssertionError("unreachable")
