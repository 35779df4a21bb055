"""The activation history: recorded by every activation, walked by rollback and fallback."""

from __future__ import annotations

from models.activation_chain import activation, fallbacks, history_after, rollback_target
from schemas.records import ModelActivated


def _chain(*versions: str) -> ModelActivated | None:
    record = None
    for n, version in enumerate(versions):
        record = activation(version, record, float(n))
    return record


def test_each_activation_extends_the_history() -> None:
    record = _chain("v1", "v2", "v3")
    assert record is not None
    assert (record.version, record.previous, record.history) == ("v3", "v2", ["v1", "v2"])
    assert history_after(record) == ["v1", "v2", "v3"]


def test_rollback_walks_the_history_not_a_toggle() -> None:
    record = _chain("v1", "v2", "v3")
    assert rollback_target(record, lambda v: True) == "v2"
    assert rollback_target(record, lambda v: v != "v2") == "v1"
    after = activation("v2", record, 9.0)
    # rolling back from v2 goes on to v3's predecessor chain, newest first, skipping v2 itself
    assert rollback_target(after, lambda v: True) == "v3"
    assert rollback_target(after, lambda v: v not in {"v3"}) == "v1"
    assert rollback_target(_chain("v1"), lambda v: True) is None


def test_fallbacks_are_the_earlier_versions_newest_first() -> None:
    record = _chain("v1", "v2", "v3")
    assert record is not None
    assert list(fallbacks(record)) == ["v2", "v1"]
    legacy = ModelActivated(version="v5", activated_at=1.0, previous="v4")
    assert list(fallbacks(legacy)) == ["v4"]
