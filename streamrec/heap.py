"""The worker's garbage-collector policy: settle the startup heap, then collect rarely.

A worker keeps tens of thousands of decoded states, each several containers, so every full
collection walks a large heap. With CPython's default thresholds (700, 10, 10), one worker
draining a backlog of 300,000 events over 100,000 users made 52 full passes (about one every
1.5 s): 12.3 s of 82 s of CPU, the longest pause 324 ms. States hold no reference cycles (they
are freed by reference counting), so young collections can be far apart and full ones rare: with
the thresholds below the same backlog took 3.0 s of collection in all, and its 14 full passes
match Faust's own `gc.collect()` calls at startup, one per table.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)
"""Allocations between young collections, then young (and middle) passes between older ones."""


def settle() -> None:
    """Collect once, freeze the survivors (modules, app, tables) out of every later pass, and
    space later collections out (THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
