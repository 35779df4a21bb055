"""The worker's heap policy: startup survivors frozen, later collections spaced out, freed
memory handed back."""

from __future__ import annotations

import gc
import os

from agents.runtime.heap import THRESHOLDS, release_freed, settle
from agents.runtime.tables import MIB


def test_settle_freezes_the_heap_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        settle()
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _resident_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_release_freed_returns_freed_heap_pages_to_the_system() -> None:
    blocks = [os.urandom(16) * (64 + n % 128) for n in range(100_000)]  # 1-3 KiB each
    _kept = blocks[::64]  # one block in 64 stays, so the freed memory is full of holes
    del blocks
    resident = _resident_bytes()
    assert release_freed()
    assert resident - _resident_bytes() > 64 * MIB
