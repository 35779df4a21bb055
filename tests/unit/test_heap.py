"""The worker's collector policy: startup survivors frozen, later collections spaced out."""

from __future__ import annotations

import gc

from streamrec.heap import THRESHOLDS, settle


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
