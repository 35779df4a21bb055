"""Raw records in and out of the broker for the chaos tests: poison in, dead letters out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from tests.chaos.poison import Poison
from tests.integration.topic_reader import read_topic

Position = tuple[str, int, int]
"""A record's topic, partition and offset."""
MAX_REQUEST_BYTES = 4 * 1024 * 1024


async def _produce(broker: str, records: Iterable[Poison]) -> dict[Position, Poison]:
    out = AIOKafkaProducer(
        bootstrap_servers=broker.removeprefix("kafka://"), max_request_size=MAX_REQUEST_BYTES
    )
    await out.start()
    sent: dict[Position, Poison] = {}
    try:
        for record in records:
            delivered = await out.send(record.topic, key=record.key, value=record.value)
            metadata = await delivered
            sent[(record.topic, metadata.partition, metadata.offset)] = record
    finally:
        await out.stop()
    return sent


def produce(broker: str, records: Iterable[Poison]) -> dict[Position, Poison]:
    """Publish the records as they are (keys and values untouched); where each one landed."""
    return asyncio.run(_produce(broker, records))


def dead_letters(broker: str) -> dict[Position, str]:
    """Every dead letter so far: the reason, by the position of the record it refused."""
    found: dict[Position, str] = {}
    for record in read_topic(broker, "dead-letters"):
        letter = json.loads(record.value)
        found[(letter["source_topic"], letter["partition"], letter["offset"])] = letter["reason"]
    return found
