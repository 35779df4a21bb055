"""The worker's fetch wait: short while records flow, long after a quiet spell."""

from __future__ import annotations

from agents.fetch_pace import FetchPace


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fetches_wait_long_only_after_a_quiet_spell_and_short_again_on_records() -> None:
    clock = Clock()
    pace = FetchPace(busy_ms=30, idle_ms=1000, idle_after_s=5.0, clock=clock)
    clock.now = 4.9
    assert pace.next_wait_ms(got_records=False) == 30
    clock.now = 5.0
    assert pace.next_wait_ms(got_records=False) == 1000
    clock.now = 6.0
    assert pace.next_wait_ms(got_records=True) == 30
    clock.now = 10.9
    assert pace.next_wait_ms(got_records=False) == 30
    clock.now = 11.0
    assert pace.next_wait_ms(got_records=False) == 1000


def test_the_idle_wait_is_never_shorter_than_the_busy_one() -> None:
    assert FetchPace(busy_ms=30, idle_ms=0, idle_after_s=1.0).idle_ms == 30
