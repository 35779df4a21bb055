"""The broker-defect fixes: each test shows the defect and that the fix corrects it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from agents.app import create_app
from agents.runtime.patches import fixes as workarounds
from streamrec.kafka import consumer, partitions_for, producer, true_highwaters
from streamrec.settings import Settings


async def _fill(settings: Settings, topic: str, batches: int, per_batch: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    async with producer(settings, linger_ms=50) as out:
        for _ in range(batches):
            futures = [await out.send(topic, value=b"x", partition=0) for _ in range(per_batch)]
            await asyncio.gather(*futures)


async def _offsets(settings: Settings, topic: str) -> tuple[int, int]:
    async with consumer(settings) as client:
        tps = await partitions_for(client, topic)
        listed = await client.end_offsets(tps)
        fixed = await true_highwaters(settings.bootstrap_servers, listed)
        return listed[tps[0]], fixed[tps[0]]


def test_listed_end_offsets_fall_short_and_true_highwaters_are_exact(settings: Settings) -> None:
    topic = f"hw-{uuid.uuid4().hex[:8]}"
    asyncio.run(_fill(settings, topic, batches=5, per_batch=40))
    listed, fixed = asyncio.run(_offsets(settings, topic))
    assert listed < 200, "the broker now reports true end offsets: the fix can go"
    assert fixed == 200


def test_worker_consumer_waits_the_configured_fetch_time_not_faust_s_1500_ms(
    settings: Settings,
) -> None:
    workarounds.apply(settings, ["fast_fetch"])
    app = create_app(replace(settings, app_id=f"fetch-{uuid.uuid4().hex[:8]}"))

    async def build() -> int:
        thread = app.consumer._thread
        client = thread._create_worker_consumer(app.transport)
        wait = int(client._fetch_max_wait_ms)
        await client.stop()
        return wait

    assert asyncio.run(build()) == settings.fetch_wait_ms != 1500
