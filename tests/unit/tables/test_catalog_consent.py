"""Hand-computed cases of the catalog and consent folds."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.records import ItemUpsert, UserCommand
from streamrec.errors import InvalidRecord
from tables.catalog import apply_upsert
from tables.consent import ConsentState, apply_command, stores_events
from tests.unit.tables.factories import T0


def upsert(**fields: Any) -> ItemUpsert:
    return ItemUpsert(item_id="i1", **fields)


def command(name: str, timestamp: float) -> UserCommand:
    return UserCommand(user_id="u1", command=name, timestamp=timestamp)


def test_first_upsert_creates_the_entry_at_the_record_time() -> None:
    entry = apply_upsert(None, upsert(title="Dune", category="books", tags=["sf"], price=9.5), T0)

    assert entry is not None
    assert (entry.title, entry.category, entry.tags, entry.price) == ("Dune", "books", ["sf"], 9.5)
    assert entry.created_at == entry.updated_at == T0
    assert entry.in_stock


def test_later_upsert_replaces_fields_and_keeps_created_at() -> None:
    first = apply_upsert(None, upsert(title="Dune", category="books"), T0)
    second = apply_upsert(first, upsert(title="Dune II", in_stock=False), T0 + 60)

    assert second is not None
    assert (second.title, second.category, second.in_stock) == ("Dune II", "", False)
    assert (second.created_at, second.updated_at) == (T0, T0 + 60)
    assert second.tags == []


def test_upsert_with_its_own_created_at_keeps_it() -> None:
    entry = apply_upsert(None, upsert(created_at=T0 - 100), T0)

    assert entry is not None
    assert entry.created_at == T0 - 100


def test_none_upsert_deletes_the_entry() -> None:
    entry = apply_upsert(None, upsert(title="Dune"), T0)

    assert apply_upsert(entry, None, T0 + 1) is None
    assert apply_upsert(None, None, T0 + 1) is None


def test_opt_out_then_opt_in_follows_the_latest_command() -> None:
    state = apply_command(None, command("opt_out", T0))
    assert not stores_events(state, T0 + 1)

    state = apply_command(state, command("opt_in", T0 + 10))
    assert state == ConsentState(opted_out=False, updated_at=T0 + 10)
    assert stores_events(state, T0 + 11)


def test_an_older_command_arriving_late_is_ignored() -> None:
    state = apply_command(None, command("opt_in", T0 + 10))
    state = apply_command(state, command("opt_out", T0))

    assert not state.opted_out
    assert state.updated_at == T0 + 10


def test_opt_out_wins_a_tie() -> None:
    one_way = apply_command(apply_command(None, command("opt_out", T0)), command("opt_in", T0))
    other_way = apply_command(apply_command(None, command("opt_in", T0)), command("opt_out", T0))

    assert one_way == other_way == ConsentState(opted_out=True, updated_at=T0)


def test_erasure_blocks_replayed_events_from_before_it() -> None:
    state = apply_command(None, command("erase", T0))

    assert state.erased_at == T0
    assert not stores_events(state, T0 - 5)
    assert stores_events(state, T0 + 5)
    assert stores_events(None, T0)
    assert apply_command(state, command("erase", T0 - 50)).erased_at == T0


def test_unknown_command_is_rejected() -> None:
    with pytest.raises(InvalidRecord):
        apply_command(None, command("forget_me_maybe", T0))
