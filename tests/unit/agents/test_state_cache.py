"""The decoded-state cache: bounded, cleared generations refuse late writes, forget drops keys."""

from __future__ import annotations

from agents.runtime.state_cache import StateCache


def test_keeps_and_returns_the_written_state() -> None:
    cache = StateCache[dict[str, int]](capacity=4)
    state = {"n": 1}
    cache.keep("u1", state, cache.generation)
    assert cache.get("u1") is state
    assert cache.get("u2") is None


def test_evicts_the_least_recently_written_key_beyond_capacity() -> None:
    cache = StateCache[int](capacity=2)
    cache.keep("a", 1, 0)
    cache.keep("b", 2, 0)
    cache.keep("a", 3, 0)  # rewriting "a" makes "b" the oldest
    cache.keep("c", 4, 0)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (3, None, 4)
    assert len(cache) == 2


def test_a_batch_started_before_a_clear_keeps_nothing() -> None:
    cache = StateCache[int](capacity=8)
    started = cache.generation
    cache.keep("a", 1, started)
    cache.clear()  # partitions moved while the batch ran
    cache.keep("b", 2, started)
    assert cache.get("a") is None
    assert cache.get("b") is None
    cache.keep("b", 3, cache.generation)
    assert cache.get("b") == 3


def test_forget_drops_one_key() -> None:
    cache = StateCache[int](capacity=8)
    cache.keep("a", 1, 0)
    cache.keep("b", 2, 0)
    cache.forget("a")
    cache.forget("missing")
    assert (cache.get("a"), cache.get("b")) == (None, 2)


def test_zero_capacity_keeps_nothing() -> None:
    cache = StateCache[int](capacity=0)
    cache.keep("a", 1, 0)
    assert cache.get("a") is None
