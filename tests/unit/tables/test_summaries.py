"""Item summaries: what serving reads of an item, and the complete map every worker folds."""

from __future__ import annotations

import itertools

import orjson
import pytest

from agents.views import item_signals, signals_of
from schemas.records import ItemSummary
from tables.item import (
    ItemState,
    apply_impression,
    apply_item_event,
    summary_bytes,
    summary_of,
)
from tables.summaries import ItemSummaries
from tests.unit.tables.factories import HOUR, T0, event


def folded(count: int, impressions: int = 0) -> ItemState:
    """An item state after `count` events of mixed types and `impressions` impressions."""
    state: ItemState | None = None
    kinds = ("view", "click", "purchase", "add_to_cart")
    for n in range(count):
        state = apply_item_event(state, event(f"e{n}", T0 - n * 900.0, kinds[n % 4]))
    for n in range(impressions):
        state = apply_impression(state, T0 - n * 60.0, 2, signal_id=f"r{n}")
    assert state is not None
    return state


def test_a_summary_gives_serving_the_signals_of_the_full_state() -> None:
    state = folded(40, impressions=3)
    summary = ItemSummary.loads(summary_of("i1", state).dumps())
    held = ItemSummaries()
    held.apply("i1", summary_of("i1", state).dumps())

    assert summary.applied == 40 + 6
    assert signals_of("i1", held.state("i1"), T0 + HOUR) == item_signals(
        "i1", state.to_json(), T0 + HOUR
    )


def test_a_summary_leaves_out_the_ids_the_owner_deduplicates_on() -> None:
    wire = summary_of("i1", folded(5)).dumps()
    assert b"e4" not in wire and len(wire) < len(repr(folded(5).to_json()))


def test_the_map_keeps_the_summary_with_the_most_signals_whatever_the_order() -> None:
    states = [folded(n) for n in (3, 7, 7, 12)]
    records = [summary_of("i1", state).dumps() for state in states]
    for order in itertools.permutations(records):
        held = ItemSummaries()
        for record in order:
            held.apply("i1", record)
        summary = held.summary("i1")
        assert summary is not None and summary.applied == 12


def test_an_older_summary_is_ignored_and_a_tombstone_forgets_the_item() -> None:
    held = ItemSummaries()
    assert held.apply("i1", summary_of("i1", folded(4)).dumps())
    assert not held.apply("i1", summary_of("i1", folded(2)).dumps())
    assert held.apply("i2", summary_of("i2", folded(1)).dumps())
    assert sorted(held) == ["i1", "i2"] and len(held) == 2

    held.apply("i1", None)

    assert "i1" not in held and held.state("i1") is None and held.summary("i1") is None


@pytest.mark.parametrize("value", [b"not json", b"{}", b'{"applied": "3"}'])
def test_a_value_that_is_no_summary_is_refused(value: bytes) -> None:
    with pytest.raises((ValueError, TypeError, KeyError)):
        ItemSummaries().apply("i1", value)


def test_the_owner_cuts_the_same_summary_from_the_state_bytes_it_stores() -> None:
    for state in (folded(0, impressions=1), folded(9), folded(300, impressions=4)):
        encoded = orjson.dumps(state.to_json())
        cut = summary_bytes('i"1', state, encoded)
        assert ItemSummary.loads(cut) == summary_of('i"1', state)
        assert orjson.loads(cut) == orjson.loads(summary_of('i"1', state).dumps())


def test_applied_is_read_whether_or_not_it_comes_first() -> None:
    first = summary_of("i1", folded(6)).dumps()
    later = orjson.dumps({"item_id": "i1", **orjson.loads(summary_of("i1", folded(3)).dumps())})
    held = ItemSummaries()
    assert first.startswith(b'{"applied":6,')
    assert held.apply("i1", first) and not held.apply("i1", later)
    summary = held.summary("i1")
    assert summary is not None and summary.applied == 6
