"""Undecodable or invalid input goes to `dead-letters` with the reason; the worker carries on."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from faust.types import EventT

from agents.runtime.metrics import DEAD_LETTERS
from agents.runtime.transaction import Runtime, Transaction
from schemas.records import DeadLetter
from streamrec import topics

log = logging.getLogger(__name__)
MAX_RECORD_BYTES = 256 * 1024
"""No input record is larger (a page of impressions with its shadow pages is tens of KiB)."""
MAX_PAYLOAD_CHARS = 10_000
MAX_REASON_CHARS = 1_000


def decode_json(raw: Any) -> Any:
    """Parse a raw message value as strict JSON (no lone surrogates, no NaN); ValueError when it
    is empty, larger than MAX_RECORD_BYTES or not JSON."""
    if raw is None:
        raise ValueError("record: empty value")
    if len(raw) > MAX_RECORD_BYTES:
        raise ValueError(f"record: {len(raw)} bytes, more than the {MAX_RECORD_BYTES} allowed")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"record: not JSON ({error})") from None


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
        reason=reason[:MAX_REASON_CHARS],
        payload=payload[:MAX_PAYLOAD_CHARS],
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
