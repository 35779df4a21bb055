"""Wire records: the bytes on the topics stay what they were, and decode back to the record."""

from __future__ import annotations

import pytest

from schemas.records import (
    DeadLetter,
    ExperimentArm,
    ExperimentSpec,
    Impression,
    ImpressionItem,
    Interaction,
    ItemUpsert,
    ModelActivated,
    Record,
    ShadowPage,
    UserCommand,
    VariantSpec,
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
        b'"timestamp":1700000000.0,"experiment_id":"exp","variant":"B","experiments":null,'
        b'"shadow":null,"schema_version":1,"__faust":{"ns":"streamrec.Impression"}}',
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
            experiments=[
                ExperimentArm(experiment_id="exp", variant="B", run_id="run1", layer="ranking")
            ],
            shadow=[
                ShadowPage(
                    experiment_id="exp",
                    variant="S",
                    model_version="v2",
                    items=[ImpressionItem(item_id="i2", position=0, source="ease", score=0.25)],
                    run_id="run1",
                )
            ],
        ),
        b'{"request_id":"r1","user_id":"u1","items":[{"item_id":"i1","position":0,"source":"als",'
        b'"score":0.5,"__faust":{"ns":"streamrec.ImpressionItem"}}],"model_version":"v1",'
        b'"timestamp":1700000000.0,"experiment_id":"exp","variant":"B","experiments":['
        b'{"experiment_id":"exp","variant":"B","run_id":"run1","layer":"ranking",'
        b'"__faust":{"ns":"streamrec.ExperimentArm"}}],"shadow":[{"experiment_id":"exp",'
        b'"variant":"S","model_version":"v2","items":[{"item_id":"i2","position":0,'
        b'"source":"ease","score":0.25,"__faust":{"ns":"streamrec.ImpressionItem"}}],'
        b'"run_id":"run1","__faust":{"ns":"streamrec.ShadowPage"}}],"schema_version":1,'
        b'"__faust":{"ns":"streamrec.Impression"}}',
    ),
    (
        ModelActivated(version="v2", activated_at=1.7e9, previous="v1"),
        b'{"version":"v2","activated_at":1700000000.0,"previous":"v1","config":null,'
        b'"promoted_from":null,"history":null,"schema_version":1,"__faust":{"ns":"streamrec.ModelActivated"}}',
    ),
    (
        ModelActivated(
            version="v2",
            activated_at=1.7e9,
            previous="v1",
            config={"explore_share": 0.1},
            promoted_from="exp/B",
        ),
        b'{"version":"v2","activated_at":1700000000.0,"previous":"v1",'
        b'"config":{"explore_share":0.1},"promoted_from":"exp/B","history":null,"schema_version":1,'
        b'"__faust":{"ns":"streamrec.ModelActivated"}}',
    ),
    (
        ExperimentSpec(
            id="exp",
            variants=[
                VariantSpec(name="A"),
                VariantSpec(
                    name="B", weight=2.0, model_version="v2", config={"explore_share": 0.2}
                ),
            ],
            status="running",
            run_id="run1",
            revision="rev1",
            created_at=1.7e9,
            updated_at=1.7e9 + 1,
            description="d",
            layer="ranking",
        ),
        b'{"id":"exp","variants":[{"name":"A","weight":1.0,"model_version":null,"config":null,'
        b'"shadow":false,"__faust":{"ns":"streamrec.VariantSpec"}},{"name":"B","weight":2.0,'
        b'"model_version":"v2","config":{"explore_share":0.2},"shadow":false,'
        b'"__faust":{"ns":"streamrec.VariantSpec"}}],"status":"running","run_id":"run1",'
        b'"revision":"rev1","created_at":1700000000.0,"updated_at":1700000001.0,'
        b'"description":"d","layer":"ranking","promoted":null,"schema_version":1,'
        b'"__faust":{"ns":"streamrec.Experiment"}}',
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


def test_records_written_before_the_experiment_fields_decode_with_their_defaults() -> None:
    impression = (
        b'{"request_id":"r1","user_id":"u1","items":[{"item_id":"i1","position":0,'
        b'"source":"als","score":0.5,"__faust":{"ns":"streamrec.ImpressionItem"}}],'
        b'"model_version":"v1","timestamp":1700000000.0,"experiment_id":"exp","variant":"B",'
        b'"schema_version":1,"__faust":{"ns":"streamrec.Impression"}}'
    )
    decoded = Impression.loads(impression)
    assert decoded.items == [ImpressionItem(item_id="i1", position=0, source="als", score=0.5)]
    assert (decoded.experiments, decoded.shadow) == (None, None)
    activated = ModelActivated.loads(
        b'{"version":"v2","activated_at":1700000000.0,"previous":"v1","schema_version":1,'
        b'"__faust":{"ns":"streamrec.ModelActivated"}}'
    )
    assert (activated.config, activated.promoted_from) == (None, None)


def test_unknown_fields_are_ignored_and_a_missing_required_field_is_refused() -> None:
    newer = b'{"version":"v3","activated_at":1.0,"rollout":"canary","__faust":{"ns":"x"}}'
    assert ModelActivated.loads(newer) == ModelActivated(version="v3", activated_at=1.0)
    with pytest.raises(TypeError):
        ModelActivated.loads(b'{"activated_at":1.0}')
    with pytest.raises(TypeError):
        Impression.from_data({"request_id": "r", "user_id": "u", "items": ["i1"]})
    with pytest.raises(TypeError):
        ExperimentSpec.from_data({"id": "exp", "variants": {"name": "A"}})


def test_records_are_immutable() -> None:
    command = UserCommand(user_id="u1", command="opt_out", timestamp=1.0)
    with pytest.raises(AttributeError):
        command.command = "erase"  # type: ignore[misc]
