"""Records of the input topics the worker refuses: impressions, catalog records carrying an
event's fields, keys that are not the record's id, oversized or non-JSON values."""

from __future__ import annotations

from typing import Any

import pytest

from agents.dead_letters import MAX_RECORD_BYTES, decode_json
from agents.keys import TolerantKey, check_key
from schemas.validate import parse_catalog_record
from schemas.validate_impression import parse_impression
from streamrec.errors import InvalidRecord

SERVED = {"item_id": "i1", "position": 0, "source": "popular", "score": 0.5}
IMPRESSION: dict[str, Any] = {
    "request_id": "r1",
    "user_id": "u1",
    "model_version": "v1",
    "timestamp": 1_700_000_000,
    "items": [SERVED],
    "experiments": [{"experiment_id": "x", "variant": "a", "run_id": "x-1"}],
    "shadow": [{"experiment_id": "x", "variant": "b", "model_version": "v2", "items": [SERVED]}],
}


def test_a_served_page_is_read_with_its_arms_and_shadow_pages() -> None:
    impression = parse_impression(IMPRESSION)
    assert impression.items[0].item_id == "i1" and impression.items[0].score == 0.5
    assert impression.experiments is not None and impression.experiments[0].layer == "default"
    assert impression.shadow is not None and impression.shadow[0].items[0].position == 0
    assert (
        parse_impression({**IMPRESSION, "items": [{**SERVED, "score": None}]}).items[0].score == 0
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"request_id": None}, "request_id: is required"),
        ({"user_id": "u\ud800"}, "user_id: must not contain control characters"),
        ({"model_version": 3}, "model_version: must be a string"),
        ({"timestamp": "soon"}, "timestamp: must be ISO-8601"),
        ({"items": "i1"}, "items: must be a list"),
        ({"items": [1]}, "items[0]: must be an object"),
        ({"items": [{**SERVED, "item_id": 1.5}]}, "items[0].item_id: must be a string"),
        ({"items": [{**SERVED, "position": -1}]}, "items[0].position: must be a non-negative"),
        ({"items": [{**SERVED, "position": True}]}, "items[0].position: must be a non-negative"),
        ({"items": [{**SERVED, "source": None}]}, "items[0].source: must be a string"),
        ({"items": [{**SERVED, "score": "high"}]}, "items[0].score: must be a finite number"),
        ({"experiments": [{"variant": "a"}]}, "experiments[0].experiment_id: must be a string"),
        ({"shadow": [{"experiment_id": "x"}]}, "shadow[0].variant: must be a string"),
        ({"schema_version": 2}, "schema_version: must be 1"),
    ],
)
def test_bad_impressions_are_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRecord, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_impression({**IMPRESSION, **change})


def test_a_catalog_record_carrying_an_event_s_fields_is_refused() -> None:
    event = {"event_id": "e1", "user_id": "u1", "item_id": "i1", "type": "view"}
    with pytest.raises(InvalidRecord, match="event_id: belongs to events records, not items"):
        parse_catalog_record(event)
    assert parse_catalog_record({"item_id": "i1", "title": "Heat"}).title == "Heat"


def test_a_key_must_be_the_record_s_id_and_a_tombstone_s_key_clean_text() -> None:
    assert check_key("u1", "u1", "user_id") == "u1"
    assert check_key("i1", None, "item_id") == "i1"
    undecodable = TolerantKey().loads(b"\xff\xfeu1")
    for key, message in [
        (None, "key: is required"),
        ("", "key: is required"),
        ("u2", "key: must equal the record's user_id"),
        (undecodable, "key: must be UTF-8 text"),
    ]:
        with pytest.raises(InvalidRecord, match=message):
            check_key(key, "u1", "user_id")
    with pytest.raises(InvalidRecord, match="key: must be UTF-8 text"):
        check_key(undecodable, None, "item_id")


def test_undecodable_keys_come_back_byte_for_byte() -> None:
    raw = b"\xff\xfeu1"
    assert TolerantKey().dumps(TolerantKey().loads(raw)) == raw
    assert TolerantKey().dumps("u1") == b"u1"


def test_values_that_are_empty_oversized_or_not_strict_json_are_refused() -> None:
    assert decode_json(b'{"a": 1}') == {"a": 1}
    for raw, message in [
        (None, "record: empty value"),
        (b" " * (MAX_RECORD_BYTES + 1), "more than the 262144 allowed"),
        (b'{"a": "\\ud800"}', "record: not JSON"),
        (b'{"a": NaN}', "record: not JSON"),
        (b"\xff", "record: not JSON"),
    ]:
        with pytest.raises(ValueError, match=message):
            decode_json(raw)
