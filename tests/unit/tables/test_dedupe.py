"""The bounded window of applied event ids."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tables.dedupe import RecentIds


def test_window_forgets_the_oldest_ids_beyond_its_limit() -> None:
    recent = RecentIds()
    for event_id in ("a", "b", "c"):
        recent.remember(event_id, limit=2)

    assert recent.ids() == ["b", "c"]
    assert "a" not in recent
    assert "c" in recent
    assert recent.count == 2


def test_ids_with_spaces_or_backslashes_never_match_their_neighbours() -> None:
    recent = RecentIds()
    for event_id in ("a", "b", "x\\_y"):
        recent.remember(event_id, limit=10)

    assert "a b" not in recent
    assert "x y" not in recent
    assert "x\\_y" in recent
    assert "" not in recent


@settings(max_examples=50, deadline=None, database=None)
@given(
    st.lists(st.text(alphabet="ab \\_", min_size=1, max_size=4), max_size=30),
    st.integers(1, 8),
    st.text(alphabet="ab \\_", min_size=1, max_size=4),
)
def test_membership_is_exactly_the_last_ids_remembered(
    ids: list[str], limit: int, probe: str
) -> None:
    recent = RecentIds()
    for event_id in ids:
        recent.remember(event_id, limit)

    assert (probe in recent) == (probe in ids[-limit:])
    assert recent.count == min(len(ids), limit)
