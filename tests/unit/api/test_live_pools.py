"""The API's catalog pools: swept on the event loop a slice at a time, never beside it."""

from __future__ import annotations

import asyncio
import threading

from api.live_pools import PoolRefresher, sweep_in_slices
from models.types import ItemMeta, ItemSignals

CATALOG = {f"i{n}": ItemMeta(f"i{n}", f"Item {n}", "abcdefghij"[n % 10]) for n in range(30)}
SIGNALS = {
    item_id: ItemSignals(item_id, events_all=n * 10, impressions=float(30 - n))
    for n, item_id in enumerate(CATALOG)
}


async def test_stale_pools_are_served_while_a_sweep_rebuilds_them_on_the_loop() -> None:
    now = [0.0]
    signals = dict(SIGNALS)
    read_by: set[int] = set()

    def catalog() -> list[ItemMeta]:
        read_by.add(threading.get_ident())
        return list(CATALOG.values())

    pools = PoolRefresher(catalog, signals.get, 10, max_age_s=5.0, clock=lambda: now[0])
    first = pools.current()
    signals["i0"] = ItemSignals("i0", events_all=10**6)
    assert pools.current() is first and pools.sweeping is None
    now[0] = 6.0
    assert pools.current() is first
    sweeping = pools.sweeping
    assert sweeping is not None
    await sweeping
    assert pools.current().trending[0] == "i0"
    assert read_by == {threading.get_ident()}, "the catalog is read on the loop's thread only"


async def test_a_sweep_gives_the_loop_back_after_every_slice() -> None:
    slices: list[list[int]] = []
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beside = asyncio.get_running_loop().create_task(other_work())
    await asyncio.sleep(0)
    await sweep_in_slices(range(10), 3, slices.append, duty=0.5)
    beside.cancel()
    assert slices == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert ticks >= len(slices)


async def test_a_failed_sweep_keeps_the_previous_pools() -> None:
    now = [0.0]
    broken = [False]

    def catalog() -> list[ItemMeta]:
        if broken[0]:
            raise RuntimeError("dictionary changed size during iteration")
        return list(CATALOG.values())

    pools = PoolRefresher(catalog, SIGNALS.get, 10, max_age_s=5.0, clock=lambda: now[0])
    first = pools.current()
    broken[0], now[0] = True, 6.0
    pools.current()
    assert pools.sweeping is not None
    await pools.sweeping
    assert pools.current() is first and pools.sweeping is None
