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

from models.registry import verify
from schemas.records import ModelActivated
from streamrec import topics
from streamrec.errors import BrokerError, RegistryError
from streamrec.kafka import consumer, end_offsets, partitions_for, producer
from streamrec.settings import Settings

TOPIC = topics.MODEL_UPDATES
KEY = topics.MODEL_UPDATES_KEY.encode()
ACTIVE_FILE = "ACTIVE"


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
    """Verify `version` and publish it as the active model, keeping the default ranking
    overrides of the current activation; returns the published record."""
    verify(_version_dir(settings, version))
    current = asyncio.run(latest_activation(settings))
    record = ModelActivated(
        version=version,
        activated_at=time.time(),
        previous=None if current is None else current.version,
        config=None if current is None else current.config,
    )
    asyncio.run(_publish(settings, record))
    _mirror(settings.registry, record)
    return record


def rollback(settings: Settings) -> ModelActivated:
    """Re-activate the version that was active before the current one (undo the last activation)."""
    current = asyncio.run(latest_activation(settings))
    if current is None or current.previous is None:
        raise RegistryError("nothing to roll back to: no earlier activation on model-updates")
    return activate(settings, current.previous)


def active_mirror(registry: Path) -> dict[str, object] | None:
    """The registry's copy of the latest activation, if any."""
    path = registry / ACTIVE_FILE
    if not path.is_file():
        return None
    mirrored: dict[str, object] = json.loads(path.read_text())
    return mirrored


def _mirror(registry: Path, record: ModelActivated) -> None:
    path = registry / ACTIVE_FILE
    staging = path.with_suffix(".tmp")
    body = {
        "version": record.version,
        "activated_at": record.activated_at,
        "previous": record.previous,
    }
    staging.write_text(json.dumps(body))
    staging.replace(path)


def _version_dir(settings: Settings, version: str) -> Path:
    path = settings.registry / version
    if not path.is_dir():
        raise RegistryError(f"{version}: no such version in {settings.registry}")
    return path
