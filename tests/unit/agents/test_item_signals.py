"""Item-signal messages: rows of signals, anything else refused whole (then dead-lettered)."""

from __future__ import annotations

import pytest

from agents.items import IMPRESSION, Signal, signal_rows
from streamrec.errors import InvalidRecord


def test_a_message_is_a_list_of_signal_rows() -> None:
    rows = [["i1", "e1", "view", 10.0, 1], ["i2", None, IMPRESSION, 11.0, 3]]
    assert signal_rows(rows) == [
        Signal("i1", "e1", "view", 10.0, 1),
        Signal("i2", "", IMPRESSION, 11.0, 3),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "event", "type": "view", "event_id": "e1", "timestamp": 10.0},
        [["i1", "e1", "view", 10.0]],
        [["i1", "e1", "view", 10.0, 1], ["i2", "e2", "like", 10.0, 1]],
    ],
    ids=["one-signal dict", "short row", "unknown type"],
)
def test_anything_else_is_refused_before_any_of_it_is_folded(payload: object) -> None:
    with pytest.raises((ValueError, TypeError, InvalidRecord)):
        signal_rows(payload)
