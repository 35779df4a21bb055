"""Lake export: archive Kafka topics into date-partitioned Parquet, incrementally and idempotently.

Layout: `<lake>/<topic>/date=YYYY-MM-DD/part-<start offset>-<partition>.parquet`, the date
taken from the record's event timestamp (the broker timestamp for catalog records, which
have none). `<lake>/_offsets.json` holds the next offset per topic and partition; it is
replaced atomically after the Parquet files of each chunk, and a chunk always starts at the
stored offset, so re-running after a crash rewrites the same files instead of adding rows.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from tqdm import tqdm

from streamrec.errors import BrokerError

TOPICS: tuple[str, ...] = ("events", "items", "impressions", "users")
OFFSETS_FILE = "_offsets.json"
CHUNK_RECORDS = 100_000
POLL_MS = 200
FETCH_WAIT_MS = 40
IDLE_POLLS_LIMIT = 25

Offsets = dict[str, dict[int, int]]

Row = dict[str, Any]
_TEXT = pa.string()
_IMPRESSION_ITEM = pa.struct(
    [("item_id", _TEXT), ("position", pa.int64()), ("source", _TEXT), ("score", pa.float64())]
)
_TYPES: dict[str, pa.DataType] = {
    "str": _TEXT,
    "float": pa.float64(),
    "bool": pa.bool_(),
    "list[str]": pa.list_(_TEXT),
    "list[item]": pa.list_(_IMPRESSION_ITEM),
}


def _schema(spec: str) -> pa.Schema:
    return pa.schema([(name, _TYPES[kind]) for name, kind in (c.split(":") for c in spec.split())])


SCHEMAS: dict[str, pa.Schema] = {
    "events": _schema(
        "event_id:str user_id:str item_id:str type:str timestamp:float value:float "
        "session_id:str request_id:str device:str"
    ),
    "items": _schema(
        "item_id:str title:str category:str tags:list[str] price:float in_stock:bool "
        "created_at:float deleted:bool"
    ),
    "impressions": _schema(
        "request_id:str user_id:str model_version:str experiment_id:str variant:str "
        "timestamp:float items:list[item]"
    ),
    "users": _schema("user_id:str command:str timestamp:float"),
}


def _decode_key(key: bytes | None) -> str | None:
    if key is None:
        return None
    text = key.decode("utf-8")
    if text.startswith('"'):
        decoded = json.loads(text)
        return decoded if isinstance(decoded, str) else text
    return text


def _columns(topic: str, value: dict[str, Any]) -> Row:
    row = {name: value.get(name) for name in SCHEMAS[topic].names}
    if topic == "events":
        context = value.get("context") or {}
        row.update({name: context.get(name) for name in ("session_id", "request_id", "device")})
    elif topic == "items":
        row["deleted"] = False
    elif topic == "impressions":
        fields = _IMPRESSION_ITEM.names
        row["items"] = [{name: item.get(name) for name in fields} for item in value["items"]]
    return row


def flatten(
    topic: str, key: bytes | None, value: bytes | None, broker_time: float
) -> tuple[Row, float] | None:
    """The lake row of one Kafka record and the time that dates it; None if undecodable."""
    try:
        if value is None:
            if topic != "items":
                return None
            item_id = _decode_key(key)
            row = {name: None for name in SCHEMAS["items"].names}
            return {**row, "item_id": item_id, "deleted": True}, broker_time
        decoded = json.loads(value)
        row = _columns(topic, decoded)
        when = broker_time if topic == "items" else float(decoded["timestamp"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return row, when


@dataclass
class ExportSummary:
    """What one export wrote: rows and files per topic, undecodable records skipped."""

    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missing_topics: list[str] = field(default_factory=list)


def read_offsets(lake: Path) -> Offsets:
    """The next offset to export per topic and partition (empty before the first export)."""
    path = lake / OFFSETS_FILE
    if not path.exists():
        return {}
    raw: dict[str, dict[str, int]] = json.loads(path.read_text())
    return {topic: {int(p): int(o) for p, o in parts.items()} for topic, parts in raw.items()}


def _replace_atomically(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def write_offsets(lake: Path, offsets: Offsets) -> None:
    """Replace `_offsets.json` atomically (write a temporary file, then rename)."""
    text = json.dumps({t: {str(p): o for p, o in sorted(ps.items())} for t, ps in offsets.items()})
    _replace_atomically(lake / OFFSETS_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def part_path(lake: Path, topic: str, day: str, start: int, partition: int) -> Path:
    """Where the rows of one chunk for one date go."""
    return lake / topic / f"date={day}" / f"part-{start}-{partition}.parquet"


@dataclass
class _Chunk:
    start: int
    records: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)


class LakeWriter:
    """Buffers records per partition and writes a chunk's files, then the offsets."""

    def __init__(self, lake: Path, offsets: Offsets, summary: ExportSummary) -> None:
        self.lake = lake
        self.offsets = offsets
        self.summary = summary
        self.chunks: dict[TopicPartition, _Chunk] = {}

    def add(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        """Buffer one record; writes the chunk when it is full."""
        chunk = self.chunks.setdefault(tp, _Chunk(record.offset))
        chunk.records.append(record)
        if len(chunk.records) >= CHUNK_RECORDS:
            self.flush(tp)

    def flush(self, tp: TopicPartition) -> None:
        """Write the partition's buffered chunk, one file per date, then advance its offset."""
        chunk = self.chunks.pop(tp, None)
        if chunk is None or not chunk.records:
            return
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in chunk.records:
            flat = flatten(tp.topic, record.key, record.value, record.timestamp / 1000.0)
            if flat is None:
                self.summary.skipped[tp.topic] += 1
                continue
            row, timestamp = flat
            by_day[_day(timestamp)].append(row)
        for day, rows in sorted(by_day.items()):
            table = pa.Table.from_pylist(rows, schema=SCHEMAS[tp.topic])
            path = part_path(self.lake, tp.topic, day, chunk.start, tp.partition)
            _replace_atomically(path, lambda tmp, t=table: pq.write_table(t, tmp))
            self.summary.rows[tp.topic] += len(rows)
            self.summary.files[tp.topic] += 1
        self.offsets.setdefault(tp.topic, {})[tp.partition] = chunk.records[-1].offset + 1
        write_offsets(self.lake, self.offsets)

    def flush_all(self) -> None:
        """Write every buffered chunk."""
        for tp in list(self.chunks):
            self.flush(tp)


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
    for tp in tps:
        stored = offsets.get(tp.topic, {}).get(tp.partition)
        if stored is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, stored)
    return tps


async def _caught_up(consumer: AIOKafkaConsumer, tps: list[TopicPartition], idle: int) -> bool:
    # ListOffsets(LATEST) is wrong on the embedded broker: trust the high watermark of fetches.
    for tp in tps:
        highwater = consumer.highwater(tp)
        if highwater is None:
            if idle < IDLE_POLLS_LIMIT:
                return False
            continue
        if await consumer.position(tp) < highwater:
            return False
    return True


async def _drain(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], writer: LakeWriter, bar: tqdm
) -> None:
    idle = 0
    while tps:
        batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=10_000)
        received = 0
        for tp, records in batches.items():
            for record in records:
                writer.add(tp, record)
            received += len(records)
        bar.update(received)
        idle = 0 if received else idle + 1
        if not received and await _caught_up(consumer, tps, idle):
            return


async def export_topics(
    bootstrap_servers: list[str],
    lake: Path,
    topics: Sequence[str] = TOPICS,
    *,
    progress: bool = True,
) -> ExportSummary:
    """Export the records after the stored offsets of `topics`; stops when caught up."""
    summary = ExportSummary()
    offsets = read_offsets(lake)
    writer = LakeWriter(lake, offsets, summary)
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
        with tqdm(desc="lake export", unit="rec", file=sys.stderr, disable=not progress) as bar:
            await _drain(consumer, tps, writer, bar)
        writer.flush_all()
    except KafkaError as error:
        raise BrokerError(f"lake export failed: {error}") from error
    finally:
        await consumer.stop()
    return summary


def export(
    bootstrap_servers: list[str],
    lake: Path,
    topics: Sequence[str] = TOPICS,
    *,
    progress: bool = True,
) -> ExportSummary:
    """Blocking wrapper of `export_topics`."""
    return asyncio.run(export_topics(bootstrap_servers, lake, topics, progress=progress))
