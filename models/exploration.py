"""Thompson sampling over the exploration pool, and where explorers go on a page."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from models.types import Candidate, SignalsLookup

EXPLORE_SOURCE = "explore"
TAIL_DEPTH = 100
"""A user with candidates explores among this many of them ranked below the page: the best
long-tail items their own models point to, not the same few catalogue-wide ones. On ML-1M
(bench/offline/quality.py, all users, pages at each user's held-out time, slots led by
confidence) 50 gave catalogue coverage 0.594 and 100 0.619, both at HR@10 0.291 (at the end of
the log, with slots led by history alone: 20 gave 0.578, 50 0.613, 100 0.622)."""
RARELY_SHOWN = 50.0
"""Impressions below which an item is still worth exploring."""


def exploration_slots(requested: int, count: int) -> int:
    """How many positions of a page of `count` go to exploration (never more than half)."""
    return max(0, min(requested, count // 2))


def sample_arms(alpha: np.ndarray, beta: np.ndarray, rng: random.Random) -> np.ndarray:
    """One Thompson draw per arm from Beta(alpha, beta), seeded by `rng` (parameters below
    1e-6 are raised to it)."""
    draws = np.random.default_rng(rng.getrandbits(64))
    return np.asarray(draws.beta(np.maximum(alpha, 1e-6), np.maximum(beta, 1e-6)))


def thompson_pick(
    pool: Sequence[Candidate],
    signals: SignalsLookup,
    rng: random.Random,
    slots: int,
    keep: Callable[[str], bool] | None = None,
) -> list[Candidate]:
    """Draw from each candidate's arm and keep the `slots` best draws, labelled explore
    (skipping, best first, items `keep` turns down)."""
    if slots <= 0 or not pool:
        return []
    arms = np.ones((len(pool), 2))
    for row, candidate in enumerate(pool):
        item = signals(candidate.item_id)
        if item is not None:
            arms[row] = item.arm_alpha, item.arm_beta
    draws = sample_arms(arms[:, 0], arms[:, 1], rng)
    picked: list[Candidate] = []
    for row in np.argsort(-draws, kind="stable").tolist():
        if len(picked) == slots:
            break
        if keep is None or keep(pool[row].item_id):
            picked.append(Candidate(pool[row].item_id, EXPLORE_SOURCE, float(draws[row]), None))
    return picked


def personal_pool(
    ids: Sequence[str], ranked: np.ndarray, tail: np.ndarray, impressions: np.ndarray
) -> list[Candidate]:
    """Up to TAIL_DEPTH of a user's candidates (`ranked`: their rows, best first, from below
    the page) that lie in the long tail and were rarely shown, as explore candidates."""
    kept = ranked[tail[ranked] & (impressions[ranked] < RARELY_SHOWN)][:TAIL_DEPTH]
    return [Candidate(ids[row], EXPLORE_SOURCE, 0.0) for row in kept.tolist()]


def slot_positions(slots: int, count: int, at_bottom: bool = False) -> list[int]:
    """Positions (0-based) for `slots` explorers in a page of `count`: evenly spread, or the
    last ones (`at_bottom`)."""
    if at_bottom:
        return list(range(max(count - slots, 0), count))
    return [(index + 1) * count // (slots + 1) for index in range(slots)]


def place_explorers(
    ranked: Sequence[Candidate],
    explorers: Sequence[Candidate],
    count: int,
    at_bottom: bool = False,
) -> list[Candidate]:
    """A page of `count` with explorers at their positions (spread, or last with `at_bottom`)
    and ranked items around them."""
    chosen = {c.item_id for c in explorers}
    rest = [c for c in ranked if c.item_id not in chosen]
    page_size = min(count, len(rest) + len(explorers))
    positions = slot_positions(len(explorers), page_size, at_bottom)
    page: list[Candidate] = []
    pending = list(explorers)
    rest_iter = iter(rest)
    for position in range(page_size):
        if pending and position in positions:
            page.append(pending.pop(0))
            continue
        nxt = next(rest_iter, None)
        if nxt is None:
            page.extend(pending)
            break
        page.append(nxt)
    return page[:count]
