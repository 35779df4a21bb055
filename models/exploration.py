"""Thompson sampling over the exploration pool: Beta draws pick which new items get a slot."""

from __future__ import annotations

import random
from collections.abc import Sequence

from models.types import Candidate, SignalsLookup

EXPLORE_SOURCE = "explore"


def exploration_slots(requested: int, count: int) -> int:
    """How many positions of a page of `count` go to exploration (never more than half)."""
    return max(0, min(requested, count // 2))


def sample_arm(alpha: float, beta: float, rng: random.Random) -> float:
    """One Thompson draw from Beta(alpha, beta); degenerate parameters fall back to the prior."""
    return rng.betavariate(max(alpha, 1e-6), max(beta, 1e-6))


def thompson_pick(
    pool: Sequence[Candidate], signals: SignalsLookup, rng: random.Random, slots: int
) -> list[Candidate]:
    """Draw from each candidate's arm and keep the `slots` best draws, labelled explore."""
    if slots <= 0:
        return []
    draws: list[tuple[float, Candidate]] = []
    for candidate in pool:
        item = signals(candidate.item_id)
        alpha, beta = (item.arm_alpha, item.arm_beta) if item else (1.0, 1.0)
        draws.append((sample_arm(alpha, beta, rng), candidate))
    draws.sort(key=lambda pair: pair[0], reverse=True)
    return [
        Candidate(item_id=c.item_id, source=EXPLORE_SOURCE, score=draw, anchor_item_id=None)
        for draw, c in draws[:slots]
    ]


def slot_positions(slots: int, count: int) -> list[int]:
    """Evenly spread positions (0-based) for `slots` explorers in a page of `count`."""
    return [(index + 1) * count // (slots + 1) for index in range(slots)]


def place_explorers(
    ranked: Sequence[Candidate], explorers: Sequence[Candidate], count: int
) -> list[Candidate]:
    """A page of `count` with explorers at spread positions and ranked items around them."""
    chosen = {c.item_id for c in explorers}
    rest = [c for c in ranked if c.item_id not in chosen]
    page_size = min(count, len(rest) + len(explorers))
    positions = slot_positions(len(explorers), page_size)
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
