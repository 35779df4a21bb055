"""Every record of a topic so far, read without a consumer group."""

from __future__ import annotations

import asyncio
from typing import Any

from streamrec.kafka import consumer, end_offsets, partitions_for
from streamrec.settings import Settings


async def _read(broker: str, topic: str) -> list[Any]:
    settings = Settings(broker=broker)
    async with consumer(settings) as client:
        tps = await partitions_for(client, topic)
        ends = await end_offsets(settings, client, tps)
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        found: list[Any] = []
        while [tp for tp in tps if await client.position(tp) < ends[tp]]:
            for records in (await client.getmany(timeout_ms=1000)).values():
                found += records
        return found


def read_topic(broker: str, topic: str) -> list[Any]:
    """The records of every partition of `topic` up to its current end (aiokafka records)."""
    return asyncio.run(_read(broker, topic))
