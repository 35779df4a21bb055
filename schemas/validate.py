"""Validation of raw input into records; each failure names the field and the rule."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from schemas.records import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    USER_COMMANDS,
    Interaction,
    ItemUpsert,
    UserCommand,
)
from schemas.text import check_clean, printable
from schemas.times import (
    DEFAULT_LIMITS,
    InputLimits,
    not_too_far_ahead,
    parse_timestamp,
)
from streamrec.errors import InvalidRecord

MAX_ID_LENGTH = 256
MAX_TEXT_LENGTH = 1024
CONTEXT_KEYS = ("session_id", "request_id", "device")
ITEM_ONLY = frozenset({"title", "category", "tags", "price", "in_stock", "created_at"})
EVENT_ONLY = frozenset(
    {"event_id", "user_id", "type", "timestamp", "value", "context", *CONTEXT_KEYS}
)


def require_id(raw: Mapping[str, Any], field: str) -> str:
    """A non-empty string id of bounded length (numbers are accepted and stringified)."""
    value = raw.get(field)
    if isinstance(value, str) and _is_clean_id(value):
        return check_clean(value, field)
    if value is None:
        raise InvalidRecord(field, "is required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRecord(field, "must be a string")
    given = check_clean(str(value), field)
    if len(given) > MAX_ID_LENGTH:
        raise InvalidRecord(field, f"must be at most {MAX_ID_LENGTH} characters")
    text = given.strip()
    if not text:
        raise InvalidRecord(field, "must not be empty")
    return text


def _is_clean_id(text: str) -> bool:
    return 0 < len(text) <= MAX_ID_LENGTH and not (text[0].isspace() or text[-1].isspace())


def _optional_number(raw: Mapping[str, Any], field: str) -> float | None:
    value = raw.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRecord(field, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRecord(field, "must be a number") from None
    except OverflowError:
        raise InvalidRecord(field, "must be a finite number") from None
    if not math.isfinite(number):
        raise InvalidRecord(field, "must be a finite number")
    return number


def _context(raw: Mapping[str, Any]) -> dict[str, str] | None:
    value = raw.get("context")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRecord("context", "must be an object")
    context: dict[str, str] = {}
    for key, item in value.items():
        if key not in CONTEXT_KEYS:
            raise InvalidRecord(
                f"context.{printable(str(key))}", f"must be one of {', '.join(CONTEXT_KEYS)}"
            )
        if item is None:
            continue
        if not isinstance(item, str) or len(item) > MAX_ID_LENGTH:
            raise InvalidRecord(f"context.{key}", f"must be a string of at most {MAX_ID_LENGTH}")
        context[key] = check_clean(item, f"context.{key}")
    return context or None


def schema_version(raw: Mapping[str, Any]) -> int:
    """The record's schema version, which must be the current one."""
    version = raw.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise InvalidRecord("schema_version", f"must be {SCHEMA_VERSION}")
    return SCHEMA_VERSION


def require_mapping(raw: Any) -> Mapping[str, Any]:
    """`raw` as a mapping, or InvalidRecord when it is not a JSON object."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord("record", "must be a JSON object")
    return raw


class ValidEvent(NamedTuple):
    """A validated interaction's fields as a plain tuple (the actors' hot path)."""

    event_id: str
    user_id: str
    item_id: str
    type: str
    timestamp: float
    value: float | None
    context: dict[str, str] | None


def validate_interaction(
    raw: Any, limits: InputLimits = DEFAULT_LIMITS, received_at: float | None = None
) -> ValidEvent:
    """Validate a raw event; a missing `event_id` is generated. With `received_at` (HTTP), a
    missing timestamp is the receive time and times too far past it are refused."""
    raw = require_mapping(raw)
    missing_id = raw.get("event_id") in (None, "")
    event_id = str(uuid.uuid4()) if missing_id else require_id(raw, "event_id")
    user_id = require_id(raw, "user_id")
    item_id = require_id(raw, "item_id")
    event_type = raw.get("type")
    if event_type not in EVENT_TYPES:
        raise InvalidRecord("type", f"must be one of {', '.join(EVENT_TYPES)}")
    timestamp = _event_time(raw.get("timestamp"), limits, received_at)
    value = _optional_number(raw, "value")
    if event_type == "rating":
        _check_rating(value, limits)
    context = _context(raw)
    schema_version(raw)
    return ValidEvent(event_id, user_id, item_id, event_type, timestamp, value, context)


def _event_time(value: Any, limits: InputLimits, received_at: float | None) -> float:
    if received_at is None:
        return parse_timestamp(value)
    if value is None:
        return received_at
    return not_too_far_ahead(parse_timestamp(value), received_at, limits, "timestamp")


def _check_rating(value: float | None, limits: InputLimits) -> None:
    if value is None:
        raise InvalidRecord("value", "is required for a rating")
    if not limits.rating_min <= value <= limits.rating_max:
        raise InvalidRecord(
            "value", f"must be a rating from {limits.rating_min:g} to {limits.rating_max:g}"
        )


def parse_interaction(
    raw: Any, limits: InputLimits = DEFAULT_LIMITS, received_at: float | None = None
) -> Interaction:
    """Validate a raw event into an `Interaction` record (see `validate_interaction`)."""
    return Interaction(**validate_interaction(raw, limits, received_at)._asdict())


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord(field, "must be a string")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidRecord(field, f"must be at most {MAX_TEXT_LENGTH} characters")
    return check_clean(value, field, free_text=True)


def _tags(raw: Mapping[str, Any]) -> list[str]:
    value = raw.get("tags")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [tag for tag in value.split("|") if tag]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidRecord("tags", "must be a list of strings or a |-separated string")
    for index, tag in enumerate(value):
        check_clean(tag, f"tags[{index}]")
    return [tag.strip() for tag in value if tag.strip()]


def _in_stock(raw: Mapping[str, Any]) -> bool:
    value = raw.get("in_stock", True)
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise InvalidRecord("in_stock", "must be true or false")


def parse_item(raw: Any) -> ItemUpsert:
    """Validate a raw catalog upsert."""
    raw = require_mapping(raw)
    price = _optional_number(raw, "price")
    if price is not None and price < 0:
        raise InvalidRecord("price", "must not be negative")
    created = raw.get("created_at")
    return ItemUpsert(
        item_id=require_id(raw, "item_id"),
        title=_text(raw, "title"),
        category=_text(raw, "category"),
        tags=_tags(raw),
        price=price,
        in_stock=_in_stock(raw),
        created_at=None if created in (None, "") else parse_timestamp(created, "created_at"),
        schema_version=schema_version(raw),
    )


def parse_catalog_record(raw: Any) -> ItemUpsert:
    """Validate a record of the `items` topic: an upsert that carries no event's fields (an
    event sent to `items` would otherwise blank the catalog row of its item)."""
    raw = require_mapping(raw)
    foreign = sorted(EVENT_ONLY.intersection(raw))
    if foreign:
        raise InvalidRecord(foreign[0], "belongs to events records, not items")
    return parse_item(raw)


def parse_user_command(raw: Any) -> UserCommand:
    """Validate a raw consent change or erasure."""
    raw = require_mapping(raw)
    command = raw.get("command")
    if command not in USER_COMMANDS:
        raise InvalidRecord("command", f"must be one of {', '.join(USER_COMMANDS)}")
    stamp = raw.get("timestamp")
    return UserCommand(
        user_id=require_id(raw, "user_id"),
        command=command,
        timestamp=time.time() if stamp is None else parse_timestamp(stamp),
        schema_version=schema_version(raw),
    )
