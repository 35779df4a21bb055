"""Undecodable or invalid input goes to `dead-letters` with the reason; the worker carries on."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from faust.types import EventT

from agents.runtime.metrics import DEAD_LETTERS
from agents.runtime.transaction import Runtime, Transaction
from schemas.records import DeadLetter
from streamrec import topics

log = logging.getLogger(__name__)


def decode_json(raw: Any) -> Any:
    """Parse a raw message value as JSON (bytes or str); ValueError when it is not."""
    if raw is None:
        raise ValueError("record: empty value")
    return json.loads(raw)


def dead_letter(event: EventT[Any], reason: str) -> DeadLetter:
    """The dead letter of an event, counted and logged."""
    message = event.message
    value = event.value
    payload = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    DEAD_LETTERS.labels(message.topic).inc()
    log.warning(
        "dead letter from %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason
    )
    return DeadLetter(
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        reason=reason,
        payload=payload[:10_000],
        timestamp=time.time(),
    )


def emit_dead_letter(transaction: Transaction, event: EventT[Any], reason: str) -> None:
    """Send the event's payload to `dead-letters` with the reason when `transaction` commits."""
    letter = dead_letter(event, reason)
    transaction.emit(topics.DEAD_LETTERS, letter.source_topic, letter.dumps())


async def send_dead_letter(runtime: Runtime, event: EventT[Any], reason: str) -> None:
    """Send the event's payload to `dead-letters` with the reason now."""
    transaction = runtime.transaction()
    emit_dead_letter(transaction, event, reason)
    await transaction.commit()
