"""Activate a registry version by publishing ModelActivated on `model-updates`.

The topic is the source of truth; an `ACTIVE` file in the registry mirrors the latest
activation for humans and for listing without a broker.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from aiokafka.errors import KafkaError

from models.activation_chain import ACTIVE_FILE, activation, rollback_target, write_mirror
from models.registry import verify
from schemas.records import ModelActivated
from streamrec import topics
from streamrec.errors import BrokerError, RegistryError
from streamrec.kafka import consumer, end_offsets, partitions_for, producer
from streamrec.settings import Settings

TOPIC = topics.MODEL_UPDATES
KEY = topics.MODEL_UPDATES_KEY.encode()


async def latest_activation(settings: Settings) -> ModelActivated | None:
    """The newest ModelActivated record on the topic, None when there is none."""
    async with consumer(settings) as client:
        if TOPIC not in await client.topics():
            return None
        tps = await partitions_for(client, TOPIC)
        ends = await end_offsets(settings, client, tps)
        client.assign(tps)
        latest: tuple[float, bytes] | None = None
        for tp in tps:
            if ends[tp] == 0:
                continue
            client.seek(tp, ends[tp] - 1)
            batch = await client.getmany(tp, timeout_ms=5000)
            for record in batch.get(tp, []):
                if record.value is not None and (latest is None or record.timestamp > latest[0]):
                    latest = (record.timestamp, record.value)
    return None if latest is None else ModelActivated.loads(latest[1])


async def _publish(settings: Settings, record: ModelActivated) -> None:
    async with producer(settings) as client:
        try:
            await client.send_and_wait(TOPIC, value=record.dumps(), key=KEY)
        except KafkaError as error:
            raise BrokerError(f"cannot publish to {TOPIC}: {error}") from error


def activate(settings: Settings, version: str) -> ModelActivated:
    """Verify `version` (sha256 of every file) and publish it as the active model, keeping the
    default ranking overrides and extending the history; returns the published record."""
    verify(_version_dir(settings, version))
    current = asyncio.run(latest_activation(settings))
    config = None if current is None else current.config
    record = activation(version, current, time.time(), config)
    asyncio.run(_publish(settings, record))
    write_mirror(settings.registry, record)
    return record


def rollback(settings: Settings) -> ModelActivated:
    """Re-activate the newest earlier version in the history that still verifies."""
    current = asyncio.run(latest_activation(settings))
    target = rollback_target(current, lambda version: _verifies(settings, version))
    if target is None:
        raise RegistryError("nothing to roll back to: no earlier verified activation")
    return activate(settings, target)


def active_mirror(registry: Path) -> dict[str, object] | None:
    """The registry's copy of the latest activation, if any."""
    path = registry / ACTIVE_FILE
    if not path.is_file():
        return None
    mirrored: dict[str, object] = json.loads(path.read_text())
    return mirrored


def _verifies(settings: Settings, version: str) -> bool:
    try:
        verify(_version_dir(settings, version))
    except (RegistryError, OSError, ValueError, KeyError):
        return False
    return True


def _version_dir(settings: Settings, version: str) -> Path:
    path = settings.registry / version
    if not path.is_dir():
        raise RegistryError(f"{version}: no such version in {settings.registry}")
    return path
