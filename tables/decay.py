"""Exponentially decayed scores held at a reference time, so updates never touch the clock."""

from __future__ import annotations

import math

HOUR = 3600.0
DAY = 24 * HOUR
_LN2 = math.log(2.0)


def decay_factor(elapsed: float, half_life: float) -> float:
    """The weight left after `elapsed` seconds: 2 ** (-elapsed / half_life)."""
    return math.exp(-elapsed * _LN2 / half_life)


def add_decayed(
    scores: dict[str, float],
    reference: float,
    key: str,
    weight: float,
    timestamp: float,
    half_life: float,
) -> float:
    """Add `weight` seen at `timestamp` to `scores` held at `reference`; return the new reference.

    Scores are expressed at the reference time (the newest timestamp seen). An older observation
    is added already decayed; a newer one first decays every score forward. The result depends
    only on the set of observations, not on their order (up to float rounding). Mutates `scores`.
    """
    if timestamp <= reference:
        scores[key] = scores.get(key, 0.0) + weight * decay_factor(reference - timestamp, half_life)
        return reference
    factor = decay_factor(timestamp - reference, half_life)
    for name in scores:
        scores[name] *= factor
    scores[key] = scores.get(key, 0.0) + weight
    return timestamp


def decayed_to(
    scores: dict[str, float], reference: float, now: float, half_life: float
) -> dict[str, float]:
    """`scores` decayed from `reference` to `now`, as a new dict (never grown for a past `now`)."""
    factor = decay_factor(max(now - reference, 0.0), half_life)
    return {key: score * factor for key, score in scores.items()}
