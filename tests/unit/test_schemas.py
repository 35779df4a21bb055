"""Validation of raw input: each bad input is refused with the field and the rule."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from cli.ingest import validate_events, validate_items
from schemas import parse_interaction, parse_item, parse_user_command
from schemas.text import SLASH_RULE, TEXT_RULE
from schemas.times import EPOCH_RULE, InputLimits, parse_timestamp
from streamrec.errors import InvalidRecord, RecsysError

GOOD: dict[str, Any] = {
    "event_id": "e1",
    "user_id": "u1",
    "item_id": "i1",
    "type": "view",
    "timestamp": "2024-01-01T00:00:00Z",
}
TYPES = "type: must be one of view, click, add_to_cart, purchase, rating"
TIME_RULE = "timestamp: must be ISO-8601 text or epoch seconds or milliseconds"

BAD_EVENTS: list[tuple[dict[str, Any], str]] = [
    ({"user_id": None}, "user_id: is required"),
    ({"user_id": ""}, "user_id: must not be empty"),
    ({"user_id": "   "}, "user_id: must not be empty"),
    ({"user_id": "u" * 257}, "user_id: must be at most 256 characters"),
    ({"item_id": None}, "item_id: is required"),
    ({"item_id": ""}, "item_id: must not be empty"),
    ({"type": "like"}, TYPES),
    ({"type": None}, TYPES),
    ({"timestamp": None}, "timestamp: is required"),
    ({"timestamp": "yesterday"}, TIME_RULE),
    ({"timestamp": -5}, f"timestamp: {EPOCH_RULE}"),
    ({"timestamp": 1e15}, f"timestamp: {EPOCH_RULE}"),
    ({"value": "lots"}, "value: must be a number"),
    ({"type": "rating"}, "value: is required for a rating"),
    ({"event_id": "e" * 300}, "event_id: must be at most 256 characters"),
    ({"user_id": "a\x00b"}, f"user_id: {TEXT_RULE}"),
    ({"item_id": "i\n"}, f"item_id: {TEXT_RULE}"),
    ({"event_id": "\x1b[0m"}, f"event_id: {TEXT_RULE}"),
    ({"user_id": "team/alice"}, f"user_id: {SLASH_RULE}"),
    ({"item_id": "42/b"}, f"item_id: {SLASH_RULE}"),
    ({"type": "rating", "value": 0}, "value: must be a rating from 0.5 to 5"),
    ({"type": "rating", "value": 7}, "value: must be a rating from 0.5 to 5"),
]


@pytest.mark.parametrize(("change", "message"), BAD_EVENTS)
def test_bad_events_are_refused_naming_field_and_rule(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        parse_interaction({**GOOD, **change})
    assert refused.value.message == message


@pytest.mark.parametrize(("change", "message"), BAD_EVENTS)
def test_bulk_validation_gives_the_same_message_as_one_by_one(
    change: dict[str, Any], message: str
) -> None:
    row = {**GOOD, "value": None, **change}
    frame = pl.DataFrame({k: [v] for k, v in row.items()}, strict=False)
    result = validate_events(frame)
    assert [r["reason"] for r in result.rejects] == [message]
    assert result.values == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-01T00:00:00Z", 1_704_067_200.0),
        ("2024-01-01T02:00:00+02:00", 1_704_067_200.0),
        ("2024-01-01T00:00:00", 1_704_067_200.0),
        (1_704_067_200, 1_704_067_200.0),
        (1_704_067_200_000, 1_704_067_200.0),
        ("1704067200", 1_704_067_200.0),
    ],
)
def test_timestamps_are_accepted_as_iso_or_epoch_and_stored_as_utc_seconds(
    raw: Any, expected: float
) -> None:
    assert parse_interaction({**GOOD, "timestamp": raw}).timestamp == expected


def test_a_missing_event_id_is_generated_and_ids_are_strings() -> None:
    event = parse_interaction({**GOOD, "event_id": None, "user_id": 42})
    assert event.event_id and event.user_id == "42"


def test_context_keys_are_checked() -> None:
    with pytest.raises(InvalidRecord) as refused:
        parse_interaction({**GOOD, "context": {"browser": "x"}})
    assert refused.value.message == "context.browser: must be one of session_id, request_id, device"


def test_schema_version_must_be_the_current_one_and_not_a_boolean() -> None:
    for version in (2, True):
        with pytest.raises(InvalidRecord) as refused:
            parse_interaction({**GOOD, "schema_version": version})
        assert refused.value.message == "schema_version: must be 1"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"item_id": "i1", "price": -1}, "price: must not be negative"),
        ({"item_id": "i1", "tags": [1]}, "tags: must be a list of strings or a |-separated string"),
        ({"item_id": "i1", "in_stock": "maybe"}, "in_stock: must be true or false"),
        ({"title": "x"}, "item_id: is required"),
    ],
)
def test_bad_items_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        parse_item(raw)
    assert refused.value.message == message


def test_item_tags_accept_a_pipe_separated_string() -> None:
    assert parse_item({"item_id": "i1", "tags": "Action|Crime"}).tags == ["Action", "Crime"]


def test_user_commands_are_checked() -> None:
    with pytest.raises(InvalidRecord) as refused:
        parse_user_command({"user_id": "u1", "command": "forget"})
    assert refused.value.message == "command: must be one of opt_out, opt_in, erase"


def test_context_text_is_checked_alike_one_by_one_and_in_bulk() -> None:
    message = f"context.device: {TEXT_RULE}"
    with pytest.raises(InvalidRecord, match=r"context\.device"):
        parse_interaction({**GOOD, "context": {"device": "tv\x07"}})
    frame = pl.DataFrame([{**GOOD, "device": "tv\x07"}])
    assert [r["reason"] for r in validate_events(frame).rejects] == [message]


@pytest.mark.parametrize("raw", [99_999_999_999_999, "99999999999999", 99_999_999_999_999.0])
def test_milliseconds_are_told_from_seconds_once_whatever_the_column_type(raw: Any) -> None:
    far = InputLimits(max_future_s=1e12)
    frame = pl.DataFrame({**{k: [v] for k, v in GOOD.items()}, "timestamp": [raw]})
    [value] = validate_events(frame, far).values
    assert parse_timestamp(raw) == 99_999_999_999.999
    assert pl.read_ndjson(value)["timestamp"][0] == 99_999_999_999.999


def test_bulk_refuses_times_more_than_the_limit_ahead_of_now() -> None:
    now = 1_700_000_000.0
    rows = [{**GOOD, "timestamp": now + 3600}, {**GOOD, "timestamp": (now + 2 * 86_400) * 1000}]
    result = validate_events(pl.DataFrame(rows), now=now)
    assert len(result.values) == 1
    assert [r["row"] for r in result.rejects] == [2]
    assert result.rejects[0]["reason"].startswith("timestamp: must not be more than 86400 s")


def test_a_file_of_one_topic_is_refused_whole_for_the_other() -> None:
    events = pl.DataFrame([{**GOOD, "value": 4.0}])
    items = pl.DataFrame([{"item_id": "i1", "title": "Heat", "category": "crime"}])
    with pytest.raises(RecsysError, match="belong to events records, not items"):
        validate_items(events)
    with pytest.raises(RecsysError, match="belong to items records, not events"):
        validate_events(items)
