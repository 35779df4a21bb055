"""Events and hypothesis strategies shared by the table tests."""

from __future__ import annotations

from hypothesis import strategies as st

from schemas.records import EVENT_TYPES, Interaction

HOUR = 3600.0
DAY = 24 * HOUR
# An hour boundary plus 30 s, so bucket arithmetic in the tests is easy to follow.
T0 = 472_222 * HOUR + 30.0


def event(
    event_id: str,
    timestamp: float,
    event_type: str = "view",
    item_id: str = "i1",
    value: float | None = None,
    user_id: str = "u1",
) -> Interaction:
    """One interaction with the fields the folds read."""
    return Interaction(
        event_id=event_id,
        user_id=user_id,
        item_id=item_id,
        type=event_type,
        timestamp=timestamp,
        value=value,
    )


ITEMS = ("i1", "i2", "i3", "i4")


def _event_from(index: int, draw: tuple[int, str, str, int]) -> Interaction:
    quarter_seconds_back, event_type, item_id, stars = draw
    return event(
        event_id=f"e{index}",
        timestamp=T0 - quarter_seconds_back / 4,
        event_type=event_type,
        item_id=item_id,
        value=float(stars) if event_type == "rating" else None,
    )


def event_batches(max_size: int = 24) -> st.SearchStrategy[list[Interaction]]:
    """Batches of distinct events for one user over three days, some of them ratings."""
    one_event = st.tuples(
        st.integers(0, int(4 * 3 * DAY)),
        st.sampled_from(EVENT_TYPES),
        st.sampled_from(ITEMS),
        st.integers(1, 5),
    )
    return st.lists(one_event, max_size=max_size).map(
        lambda draws: [_event_from(index, draw) for index, draw in enumerate(draws)]
    )


CATEGORIES = {"i1": "books", "i2": "books", "i3": "music", "i4": None}
