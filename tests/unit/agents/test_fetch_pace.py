"""Fetch rests: none while the worker is active, the idle interval once it is quiet, and a
publish of the worker ends a rest at once (on its own loop or another thread's)."""

from __future__ import annotations

import asyncio
import threading

from agents.runtime.patches.fetch_pace import FetchPace

LONG_S = 60.0
"""A rest no test waits out: each test ends it by a wake."""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fetches_rest_only_after_a_quiet_spell_and_records_end_it() -> None:
    clock = Clock()
    pace = FetchPace(idle_s=1.0, idle_after_s=5.0, clock=clock)
    clock.now = 4.9
    pace.note(got_records=False)
    assert pace.pause_s() == 0.0
    clock.now = 5.0
    assert pace.pause_s() == 1.0
    pace.note(got_records=True)
    assert pace.pause_s() == 0.0
    clock.now = 9.9
    assert pace.pause_s() == 0.0
    clock.now = 10.0
    assert pace.pause_s() == 1.0


def test_a_publish_makes_the_worker_active_again() -> None:
    clock = Clock()
    pace = FetchPace(idle_s=1.0, idle_after_s=5.0, clock=clock)
    clock.now = 100.0
    assert pace.pause_s() == 1.0
    pace.wake()
    assert pace.pause_s() == 0.0
    clock.now = 105.0
    assert pace.pause_s() == 1.0


async def test_an_active_worker_fetches_again_at_once() -> None:
    pace = FetchPace(idle_s=LONG_S, idle_after_s=LONG_S)
    await asyncio.wait_for(pace.rest(got_records=False), LONG_S / 2)


async def test_a_publish_on_the_same_loop_ends_a_rest() -> None:
    pace = FetchPace(idle_s=LONG_S, idle_after_s=0.0)
    resting = asyncio.create_task(pace.rest(got_records=False))
    await asyncio.sleep(0.01)
    assert not resting.done()
    pace.wake()
    await asyncio.wait_for(resting, LONG_S / 2)


def test_a_publish_from_another_thread_ends_a_rest_on_the_consumer_s_loop() -> None:
    pace = FetchPace(idle_s=LONG_S, idle_after_s=0.0)
    started, ended = threading.Event(), threading.Event()

    async def consumer_thread() -> None:
        resting = asyncio.create_task(pace.rest(got_records=False))
        await asyncio.sleep(0.01)
        started.set()
        await resting
        ended.set()

    thread = threading.Thread(target=asyncio.run, args=(consumer_thread(),))
    thread.start()
    assert started.wait(LONG_S / 2)
    assert not ended.is_set()
    pace.wake()
    thread.join(LONG_S / 2)
    assert ended.is_set()
