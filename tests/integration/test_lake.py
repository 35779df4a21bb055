"""Lake export against the real embedded broker: incremental, idempotent, flattened."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import polars as pl
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cli.embedded_broker import EmbeddedBroker, start_broker
from offline.lake import OFFSETS_FILE, TOPICS, compact, export_topics, file_count, read_offsets
from offline.synthetic import blocks
from schemas.records import Impression, ImpressionItem, Interaction, ItemUpsert, UserCommand
from streamrec.settings import Settings
from tests.conftest import with_env

pytestmark = pytest.mark.integration

DAY_ONE = 1_700_000_000.0  # 2023-11-14
DAY_TWO = DAY_ONE + 86_400.0
EVENT_PARTITIONS = 3


@pytest.fixture
async def broker() -> AsyncIterator[EmbeddedBroker]:
    running = start_broker()
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=running.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, EVENT_PARTITIONS, 1) for t in TOPICS])
        finally:
            await admin.close()
        yield running
    finally:
        running.stop()


def _event(n: int, when: float) -> Interaction:
    context = {"session_id": f"s{n % 3}", "device": "web"}
    return Interaction(
        event_id=f"e{n}",
        user_id=f"u{n % 7}",
        item_id=f"i{n % 11}",
        type="click",
        timestamp=when + n,
        value=None,
        context=context,
    )


async def _produce(
    broker: EmbeddedBroker, topic: str, records: Sequence[tuple[str, bytes | None]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5)
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value=value, key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _produce_events(broker: EmbeddedBroker, topic: str, numbers: range, when: float) -> None:
    records = [(f"u{n % 7}", _event(n, when).dumps()) for n in numbers]
    await _produce(broker, topic, records)


async def _export(
    broker: EmbeddedBroker, lake: Path, topics: list[str], compact_at: int = 8
) -> None:
    await export_topics([broker.bootstrap], lake, topics, progress=False, compact_at=compact_at)


def _lake_events(lake: Path, topic: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((lake / topic).rglob("*.parquet")))


async def test_second_export_adds_only_new_records_and_each_event_lands_once(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    events = "events"
    await _produce_events(broker, events, range(0, 300), DAY_ONE)
    await _export(broker, tmp_path, [events])
    assert _lake_events(tmp_path, events).height == 300
    await _produce_events(broker, events, range(300, 450), DAY_TWO)
    await _export(broker, tmp_path, [events])
    lake = _lake_events(tmp_path, events)
    assert sorted(lake["event_id"].to_list()) == sorted(f"e{n}" for n in range(450))
    assert sum(read_offsets(tmp_path)[events].values()) == 450
    assert file_count(tmp_path, events) == 2 * EVENT_PARTITIONS  # one per partition per export


async def test_rerun_after_crash_before_offsets_write_does_not_duplicate_rows(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    events = "events"
    await _produce_events(broker, events, range(0, 100), DAY_ONE)
    await _export(broker, tmp_path, [events])
    before_crash = tmp_path / "offsets-before.json"
    shutil.copy(tmp_path / OFFSETS_FILE, before_crash)
    await _produce_events(broker, events, range(100, 180), DAY_ONE)
    await _export(broker, tmp_path, [events])
    shutil.copy(before_crash, tmp_path / OFFSETS_FILE)  # the offsets write never happened
    await _produce_events(broker, events, range(180, 200), DAY_TWO)
    await _export(broker, tmp_path, [events])
    lake = _lake_events(tmp_path, events)
    assert lake.height == 200
    assert lake["event_id"].n_unique() == 200


async def test_records_are_flattened_to_the_columns_training_reads(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    item = ItemUpsert(item_id="i1", title="Heat", category="Action", tags=["Crime"], price=9.5)
    shown = [ImpressionItem(item_id="i1", position=0, source="als", score=0.5)]
    impression = Impression(
        request_id="r1",
        user_id="u1",
        items=shown,
        model_version="v1",
        timestamp=DAY_ONE,
        experiment_id="exp",
        variant="B",
    )
    await _produce(broker, "items", [("i1", item.dumps()), ("i2", None)])
    await _produce(broker, "impressions", [("u1", impression.dumps())])
    command = UserCommand(user_id="u9", command="erase", timestamp=DAY_ONE)
    await _produce(broker, "users", [("u1", command.dumps())])
    await _produce_events(broker, "events", range(1), DAY_ONE)
    await _export(broker, tmp_path, list(TOPICS))
    items = _lake_events(tmp_path, "items").sort("item_id")
    assert items.select("item_id", "category", "deleted").rows() == [
        ("i1", "Action", False),
        ("i2", None, True),
    ]
    assert items["tags"].to_list()[0] == ["Crime"]
    served = _lake_events(tmp_path, "impressions").row(0, named=True)
    assert served["items"] == [{"item_id": "i1", "position": 0, "source": "als", "score": 0.5}]
    assert served["variant"] == "B"
    users = _lake_events(tmp_path, "users")
    assert users.select("user_id", "command").rows() == [("u9", "erase")]
    event = _lake_events(tmp_path, "events").row(0, named=True)
    assert (event["session_id"], event["device"], event["request_id"]) == ("s0", "web", None)


async def test_files_follow_partitions_not_days_and_compaction_merges_them(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    events = "events"
    for export in range(4):  # four exports, each of events spread over thirty days
        numbers = range(export * 60, (export + 1) * 60)
        records = [(f"u{n % 7}", _event(n, DAY_ONE + (n % 30) * 86_400.0).dumps()) for n in numbers]
        await _produce(broker, events, records)
        await _export(broker, tmp_path, [events], compact_at=100)
    assert file_count(tmp_path, events) == 4 * EVENT_PARTITIONS
    summary = compact(tmp_path, [events])
    assert file_count(tmp_path, events) == EVENT_PARTITIONS
    assert summary.merged[events] == 4 * EVENT_PARTITIONS
    lake = _lake_events(tmp_path, events)
    assert sorted(lake["event_id"].to_list()) == sorted(f"e{n}" for n in range(240))


async def test_an_export_compacts_a_partition_that_reached_the_threshold(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    events = "events"
    for export in range(3):
        await _produce_events(broker, events, range(export * 30, (export + 1) * 30), DAY_ONE)
        await _export(broker, tmp_path, [events], compact_at=3)
    assert file_count(tmp_path, events) == EVENT_PARTITIONS
    assert _lake_events(tmp_path, events).height == 90


async def test_a_file_left_by_an_interrupted_compaction_is_not_read_twice(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    events = "events"
    for export in range(2):
        await _produce_events(broker, events, range(export * 50, (export + 1) * 50), DAY_ONE)
        await _export(broker, tmp_path, [events])
    leftovers = {p.name: p.read_bytes() for p in (tmp_path / events).glob("part-0-*")}
    compact(tmp_path, [events])
    for name, content in leftovers.items():  # the sources came back: the removals never ran
        (tmp_path / events / name).write_bytes(content)
    await _produce_events(broker, events, range(100, 120), DAY_TWO)
    await _export(broker, tmp_path, [events])
    lake = _lake_events(tmp_path, events)
    assert lake.height == 120 and lake["event_id"].n_unique() == 120


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=with_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_first_run_goes_through_the_log_publish_export_then_plain_train(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = Settings(
        broker=broker.url, data_dir=tmp_path / "var", registry=tmp_path / "var" / "registry"
    )
    events, items = blocks(groups=2, users_per_group=20, items_per_group=15, seed=5)
    events.write_parquet(tmp_path / "events.parquet")
    items.write_parquet(tmp_path / "items.parquet")
    untrained = _cli(settings, "train")
    assert untrained.returncode == 2 and "run `streamrec lake export` first" in untrained.stderr
    for topic in ("items", "events"):
        published = _cli(settings, "publish", str(tmp_path / f"{topic}.parquet"), "--topic", topic)
        assert published.returncode == 0, published.stderr
    exported = _cli(settings, "lake", "export")
    assert exported.returncode == 0, exported.stderr
    assert f"events: {events.height} rows in {EVENT_PARTITIONS} new files" in exported.stdout
    trained = _cli(settings, "train", "--factors", "8", "--iterations", "5", "--no-ranker")
    assert trained.returncode == 0, trained.stderr
    assert re.search(r"^version \S+ written to ", trained.stdout, re.MULTILINE)
    assert "\r" not in trained.stderr  # no progress bar outside a terminal
