"""The worker's heap: settle the startup heap, collect rarely, and hand freed memory back.

A worker keeps tens of thousands of decoded states, each several containers, so every full
collection walks a large heap. With CPython's default thresholds (700, 10, 10), one worker
draining a backlog of 300,000 events over 100,000 users made 52 full passes (about one every
1.5 s): 12.3 s of 82 s of CPU, the longest pause 324 ms. States hold no reference cycles (they
are freed by reference counting), so young collections can be far apart and full ones rare: with
the thresholds below the same backlog took 3.0 s of collection in all, and its 14 full passes
match Faust's own `gc.collect()` calls at startup, one per table.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache

THRESHOLDS = (50_000, 20, 100)
"""Allocations between young collections, then young (and middle) passes between older ones."""


def settle() -> None:
    """Collect once, freeze the survivors (modules, app, tables) out of every later pass, and
    space later collections out (THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


@cache
def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_freed() -> bool:
    """Return the C heap's free pages to the system (glibc's `malloc_trim`); False elsewhere.

    Decoded states, JSON documents and record batches of a few KiB are allocated and freed by
    the hundred thousand while a worker drains a backlog. glibc keeps the freed chunks mapped,
    so without this the worker's resident memory only ever grows.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
