"""Validating a batch of records: all valid, or a 422 listing every invalid index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from streamrec.errors import InvalidRecord, Unprocessable

MAX_BATCH = 1000
RecordT = TypeVar("RecordT")


def batch_of(body: Any, key: str) -> list[Any]:
    """The records of `{key: [...]}` (1..1000) or a single record object."""
    if isinstance(body, dict) and isinstance(body.get(key), list):
        records: list[Any] = body[key]
        if not 1 <= len(records) <= MAX_BATCH:
            raise Unprocessable(
                f"{key} must be a list of 1 to {MAX_BATCH} records",
                {"errors": [{"index": None, "field": key, "rule": f"1 to {MAX_BATCH} records"}]},
            )
        return records
    return [body]


def parse_all(raws: list[Any], parse: Callable[[Any], RecordT]) -> list[RecordT]:
    """Every record parsed, or Unprocessable with `{"errors": [{index, field, rule}]}`."""
    parsed: list[RecordT] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raws):
        try:
            parsed.append(parse(raw))
        except InvalidRecord as error:
            errors.append({"index": index, "field": error.field, "rule": error.rule})
    if errors:
        raise Unprocessable(f"{len(errors)} of {len(raws)} records are invalid", {"errors": errors})
    return parsed


class Serialisable(Protocol):
    """A record that can serialise itself (a faust.Record)."""

    def dumps(self) -> bytes:
        """The record's wire bytes."""
        ...


def serialised(record: Serialisable) -> bytes:
    """The record's wire bytes; InvalidRecord when a value cannot be encoded."""
    try:
        return record.dumps()
    except (TypeError, ValueError, UnicodeError) as error:
        raise InvalidRecord("record", f"cannot be serialised: {error}") from None
