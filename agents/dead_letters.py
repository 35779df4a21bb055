"""Undecodable or invalid input goes to `dead-letters` with the reason; the worker carries on."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from faust.types import EventT

from agents.metrics import DEAD_LETTERS
from schemas.records import DeadLetter

log = logging.getLogger(__name__)


def decode_json(raw: Any) -> Any:
    """Parse a raw message value as JSON (bytes or str); ValueError when it is not."""
    if raw is None:
        raise ValueError("record: empty value")
    return json.loads(raw)


async def send_dead_letter(topic: Any, event: EventT[Any], reason: str) -> None:
    """Publish the event's payload to `topic` (`dead-letters`) with the reason, and count it."""
    message = event.message
    value = event.value
    payload = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    letter = DeadLetter(
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        reason=reason,
        payload=payload[:10_000],
        timestamp=time.time(),
    )
    DEAD_LETTERS.labels(message.topic).inc()
    log.warning(
        "dead letter from %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason
    )
    await topic.send(key=message.topic, value=letter.dumps())
