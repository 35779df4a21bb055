"""Every record type survives a publish → consume round trip on the real broker."""

from __future__ import annotations

import asyncio
import uuid

from schemas.records import (
    DeadLetter,
    Impression,
    ImpressionItem,
    Interaction,
    ItemUpsert,
    ModelActivated,
    Record,
    UserCommand,
)
from streamrec.kafka import consumer, end_offsets, partitions_for, producer
from streamrec.settings import Settings

SAMPLES: list[Record] = [
    Interaction(
        event_id="e1",
        user_id="u1",
        item_id="i1",
        type="purchase",
        timestamp=1.7e9,
        value=9.5,
        context={"session_id": "s1", "device": "ios"},
    ),
    ItemUpsert(
        item_id="i1",
        title="Heat",
        category="Action",
        tags=["Action", "Crime"],
        price=9.99,
        in_stock=True,
        created_at=1.6e9,
    ),
    UserCommand(user_id="u1", command="erase", timestamp=1.7e9),
    Impression(
        request_id="r1",
        user_id="u1",
        model_version="v1",
        timestamp=1.7e9,
        items=[ImpressionItem(item_id="i1", position=0, source="als", score=0.5)],
        experiment_id="exp",
        variant="B",
    ),
    ModelActivated(version="v2", activated_at=1.7e9, previous="v1"),
    DeadLetter(
        source_topic="events",
        partition=0,
        offset=7,
        reason="type: bad",
        payload="{}",
        timestamp=1.7e9,
    ),
]


async def _round_trip(settings: Settings, record: Record, topic: str) -> Record:
    key = uuid.uuid4().hex.encode()
    async with producer(settings) as out:
        await (await out.send(topic, value=record.dumps(), key=key))
    async with consumer(settings) as client:
        tps = await partitions_for(client, topic)
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        ends = await end_offsets(settings, client, tps)
        while True:
            batch = await client.getmany(timeout_ms=2000)
            for records in batch.values():
                for message in records:
                    if message.key == key:
                        return type(record).loads(message.value)
            assert batch or any(client.position(tp) < ends[tp] for tp in tps), "record not found"


def test_every_record_type_round_trips_through_the_broker(settings: Settings) -> None:
    topic_of = {
        Interaction: "events",
        ItemUpsert: "items",
        UserCommand: "users",
        Impression: "impressions",
        ModelActivated: "model-updates",
        DeadLetter: "dead-letters",
    }
    for record in SAMPLES:
        back = asyncio.run(_round_trip(settings, record, topic_of[type(record)]))
        assert back == record, type(record).__name__
        assert back.schema_version == 1
