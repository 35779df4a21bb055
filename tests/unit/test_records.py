"""Wire records: the bytes on the topics stay what they were, and decode back to the record."""

from __future__ import annotations

import pytest

from schemas.records import (
    DeadLetter,
    Impression,
    ImpressionItem,
    Interaction,
    ItemUpsert,
    ModelActivated,
    Record,
    UserCommand,
)

# Bytes the Faust records of these namespaces wrote; records written before and after must agree.
WIRE: list[tuple[Record, bytes]] = [
    (
        Interaction(
            event_id="e1",
            user_id="u1",
            item_id="i1",
            type="rating",
            timestamp=1.7e9,
            value=4.5,
            context={"session_id": "s1", "device": "ios"},
        ),
        b'{"event_id":"e1","user_id":"u1","item_id":"i1","type":"rating","timestamp":1700000000.0,'
        b'"value":4.5,"context":{"session_id":"s1","device":"ios"},"schema_version":1,'
        b'"__faust":{"ns":"streamrec.Interaction"}}',
    ),
    (
        ItemUpsert(
            item_id="i1",
            title="Heat",
            category="Action",
            tags=["Action", "Crime"],
            price=9.99,
            created_at=1.6e9,
        ),
        b'{"item_id":"i1","title":"Heat","category":"Action","tags":["Action","Crime"],'
        b'"price":9.99,"in_stock":true,"created_at":1600000000.0,"schema_version":1,'
        b'"__faust":{"ns":"streamrec.ItemUpsert"}}',
    ),
    (
        UserCommand(user_id="u1", command="erase", timestamp=1.7e9),
        b'{"user_id":"u1","command":"erase","timestamp":1700000000.0,"schema_version":1,'
        b'"__faust":{"ns":"streamrec.UserCommand"}}',
    ),
    (
        Impression(
            request_id="r1",
            user_id="u1",
            items=[ImpressionItem(item_id="i1", position=0, source="als", score=0.5)],
            model_version="v1",
            timestamp=1.7e9,
            experiment_id="exp",
            variant="B",
        ),
        b'{"request_id":"r1","user_id":"u1","items":[{"item_id":"i1","position":0,"source":"als",'
        b'"score":0.5,"__faust":{"ns":"streamrec.ImpressionItem"}}],"model_version":"v1",'
        b'"timestamp":1700000000.0,"experiment_id":"exp","variant":"B","schema_version":1,'
        b'"__faust":{"ns":"streamrec.Impression"}}',
    ),
    (
        ModelActivated(version="v2", activated_at=1.7e9, previous="v1"),
        b'{"version":"v2","activated_at":1700000000.0,"previous":"v1","schema_version":1,'
        b'"__faust":{"ns":"streamrec.ModelActivated"}}',
    ),
    (
        DeadLetter(
            source_topic="events",
            partition=0,
            offset=7,
            reason="type: bad",
            payload="{}",
            timestamp=1.7e9,
        ),
        b'{"source_topic":"events","partition":0,"offset":7,"reason":"type: bad","payload":"{}",'
        b'"timestamp":1700000000.0,"schema_version":1,"__faust":{"ns":"streamrec.DeadLetter"}}',
    ),
]


@pytest.mark.parametrize(("record", "wire"), WIRE, ids=lambda v: type(v).__name__)
def test_each_record_writes_the_bytes_its_topic_has_always_held(
    record: Record, wire: bytes
) -> None:
    assert record.dumps() == wire
    assert type(record).loads(wire) == record


def test_unknown_fields_are_ignored_and_a_missing_required_field_is_refused() -> None:
    newer = b'{"version":"v3","activated_at":1.0,"rollout":"canary","__faust":{"ns":"x"}}'
    assert ModelActivated.loads(newer) == ModelActivated(version="v3", activated_at=1.0)
    with pytest.raises(TypeError):
        ModelActivated.loads(b'{"activated_at":1.0}')
    with pytest.raises(TypeError):
        Impression.from_data({"request_id": "r", "user_id": "u", "items": ["i1"]})


def test_records_are_immutable() -> None:
    command = UserCommand(user_id="u1", command="opt_out", timestamp=1.0)
    with pytest.raises(AttributeError):
        command.command = "erase"  # type: ignore[misc]
