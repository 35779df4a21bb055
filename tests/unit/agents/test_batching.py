"""The batch wait follows the backlog: it grows while events are old and falls back when not."""

from __future__ import annotations

from agents.runtime.batching import BatchWindow

NOW = 1_700_000_000.0


def test_the_wait_doubles_up_to_the_longest_while_the_worker_lags() -> None:
    window = BatchWindow(shortest_s=0.005, longest_s=0.05, behind_s=0.1)
    waits = [window.observe(NOW - 5.0, NOW) for _ in range(6)]
    assert waits == [0.01, 0.02, 0.04, 0.05, 0.05, 0.05]


def test_the_wait_falls_to_the_shortest_once_events_are_fresh() -> None:
    window = BatchWindow(shortest_s=0.005, longest_s=0.05, behind_s=0.1, current_s=0.05)
    assert window.observe(NOW - 0.02, NOW) == 0.005


def test_a_batch_without_timestamps_counts_as_fresh() -> None:
    window = BatchWindow(current_s=0.04)
    assert window.observe(None, NOW) == window.shortest_s
