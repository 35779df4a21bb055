"""CLI tests on the real broker: publish (abort, skip-invalid), replay ranges."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import polars as pl
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streamrec.kafka import consumer, end_offsets, partitions_for, producer
from streamrec.settings import Settings
from tests.conftest import with_env


def streamrec(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the streamrec command line in a child process against the test broker."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=with_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _read_all(settings: Settings, topic: str) -> list[tuple[bytes | None, bytes]]:
    async with consumer(settings) as client:
        tps = await partitions_for(client, topic)
        ends = await end_offsets(settings, client, tps)
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        out: list[tuple[bytes | None, bytes]] = []
        while [tp for tp in tps if await client.position(tp) < ends[tp]]:
            for records in (await client.getmany(timeout_ms=1000)).values():
                out.extend((r.key, r.value) for r in records)
        return out


def read_all(settings: Settings, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every record of a topic, in partition order."""
    return asyncio.run(_read_all(settings, topic))


def new_topic(settings: Settings, partitions: int = 4) -> str:
    """A fresh topic for one test."""
    name = f"t-{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()

    asyncio.run(create())
    return name


def _events(n: int, run: str) -> list[dict[str, object]]:
    return [
        {
            "event_id": f"{run}-{i}",
            "user_id": f"u{i % 7}",
            "item_id": f"i{i % 11}",
            "type": "view",
            "timestamp": 1_700_000_000 + i,
        }
        for i in range(n)
    ]


def test_publish_aborts_on_an_invalid_row_and_publishes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex
    rows = _events(20, run)
    rows[13]["type"] = "like"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = streamrec(settings, "publish", str(path), "--quiet")
    assert result.returncode == 2
    assert (
        "row 14: type: must be one of view, click, add_to_cart, purchase, rating" in result.stderr
    )
    assert "nothing published" in result.stderr
    assert not [v for _, v in read_all(settings, "events") if run.encode() in v]


def test_publish_refuses_an_events_file_sent_to_items_and_publishes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _events(5, run)))
    result = streamrec(settings, "publish", str(path), "--topic", "items", "--skip-invalid")
    assert result.returncode == 2
    assert "belong to events records, not items" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [v for _, v in read_all(settings, "items") if run.encode() in (v or b"")]


def test_publish_skip_invalid_publishes_the_rest_and_writes_rejects(
    settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex
    rows = _events(30, run)
    rows[3]["user_id"] = ""
    rows[8]["timestamp"] = "yesterday"
    path = tmp_path / "events.csv"
    pl.DataFrame(rows).with_columns(pl.col("timestamp").cast(pl.String)).write_csv(path)
    result = streamrec(settings, "publish", str(path), "--skip-invalid", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "published 28 record(s) to events" in result.stdout
    rejects = [json.loads(line) for line in (tmp_path / "events.csv.rejects.jsonl").open()]
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (4, "user_id: must not be empty"),
        (9, "timestamp: must be ISO-8601 text or epoch seconds or milliseconds"),
    ]
    published = [json.loads(v) for _, v in read_all(settings, "events") if run.encode() in v]
    assert sorted(e["event_id"] for e in published) == sorted(
        f"{run}-{i}" for i in range(30) if i not in (3, 8)
    )


def test_publish_reads_parquet_and_keys_events_by_user(settings: Settings, tmp_path: Path) -> None:
    run = uuid.uuid4().hex
    path = tmp_path / "events.parquet"
    pl.DataFrame(_events(50, run)).write_parquet(path)
    assert streamrec(settings, "publish", str(path), "--quiet").returncode == 0
    mine = [(k, json.loads(v)) for k, v in read_all(settings, "events") if run.encode() in v]
    assert len(mine) == 50
    assert all(key == event["user_id"].encode() for key, event in mine)


def fill(settings: Settings, topic: str, per_partition: int, partitions: int = 4) -> None:
    """Produce `per_partition` records to each partition, with record times 1000 s apart."""

    async def produce() -> None:
        async with producer(settings) as out:
            for p in range(partitions):
                for i in range(per_partition):
                    await out.send(
                        topic,
                        value=f"{p}-{i}".encode(),
                        key=b"k",
                        partition=p,
                        timestamp_ms=(1_700_000_000 + i * 1000) * 1000,
                    )
            await out.flush()

    asyncio.run(produce())


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), 40),
        (("--from-offset", "2"), 32),
        (("--from-offset", "2", "--to-offset", "5"), 12),
    ],
)
def test_replay_copies_the_requested_offset_range(
    settings: Settings, options: tuple[str, ...], expected: int
) -> None:
    source, target = new_topic(settings), new_topic(settings)
    fill(settings, source, per_partition=10)
    result = streamrec(
        settings, "replay", "--source", source, "--target", target, "--quiet", *options
    )
    assert result.returncode == 0, result.stderr
    assert len(read_all(settings, target)) == expected
    assert f"copied {expected} record(s)" in result.stdout


def test_replay_selects_by_record_time(settings: Settings) -> None:
    source, target = new_topic(settings), new_topic(settings)
    fill(settings, source, per_partition=10)
    result = streamrec(
        settings,
        "replay",
        "--source",
        source,
        "--target",
        target,
        "--quiet",
        "--from-time",
        str(1_700_000_000 + 3000),
        "--to-time",
        "2023-11-15T00:26:40Z",
    )
    assert result.returncode == 0, result.stderr
    copied = sorted(v.decode() for _, v in read_all(settings, target))
    assert copied == sorted(f"{p}-{i}" for p in range(4) for i in (3, 4, 5, 6, 7))
