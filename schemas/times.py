"""Event times: ISO-8601 text or epoch seconds or milliseconds, told apart in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streamrec.errors import InvalidRecord

# Epoch values at or above this are milliseconds (it is 2286-11-20 in seconds).
MILLIS_THRESHOLD = 10_000_000_000
TIME_RULE = "must be ISO-8601 text or epoch seconds or milliseconds"
MAX_EPOCH = 1e15
"""Epoch values (seconds or milliseconds) must stay below it: larger ones are no time a record
can hold (they overflow the integer buckets of the item counters)."""
EPOCH_RULE = "must be a finite, non-negative epoch time below 10^15"


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Bounds on input values that depend on the deployment (from the settings)."""

    rating_min: float = 0.5
    rating_max: float = 5.0
    max_future_s: float = 86_400.0


DEFAULT_LIMITS = InputLimits()


def epoch_seconds(value: float) -> float:
    """Epoch seconds from epoch seconds or milliseconds: the one place they are told apart."""
    return value / 1000.0 if value >= MILLIS_THRESHOLD else value


def parse_timestamp(value: Any, field: str = "timestamp") -> float:
    """ISO-8601 text or epoch seconds/milliseconds → UTC epoch seconds."""
    if value is None:
        raise InvalidRecord(field, "is required")
    if isinstance(value, bool):
        raise InvalidRecord(field, TIME_RULE)
    if isinstance(value, int | float):
        try:
            return _epoch(float(value), field)
        except OverflowError:
            raise InvalidRecord(field, "must be a finite, non-negative epoch time") from None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return _iso(text, field)
        return _epoch(number, field)
    if isinstance(value, datetime):
        return _aware(value).timestamp()
    raise InvalidRecord(field, TIME_RULE)


def not_too_far_ahead(seconds: float, now: float, limits: InputLimits, field: str) -> float:
    """`seconds` unchanged unless it lies more than `limits.max_future_s` after `now`."""
    if seconds > now + limits.max_future_s:
        raise InvalidRecord(
            field,
            f"must not be more than {limits.max_future_s:g} s in the future "
            "(STREAMREC_MAX_FUTURE_S)",
        )
    return seconds


def _epoch(value: float, field: str) -> float:
    if not math.isfinite(value) or not 0 <= value < MAX_EPOCH:
        raise InvalidRecord(field, EPOCH_RULE)
    return epoch_seconds(value)


def _iso(text: str, field: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRecord(field, TIME_RULE) from None
    return _aware(parsed).timestamp()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
