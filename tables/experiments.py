"""Per-variant experiment tallies and their statistics.

Counting users exactly with bounded state: the tally holds only a counter; the agent keeps one
small entry per (experiment, variant, user) under `user_seen_key(...)` and passes
`new_user=is_new_user(seen)` to `tally_impression`, then stores `mark_user_seen(seen, now)`.
Each tally value stays constant-size however many users an experiment reaches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

CONVERSION_TYPES = frozenset({"add_to_cart", "purchase"})
CONTROL = "control"


@dataclass(slots=True)
class VariantTally:
    """What one variant served and earned: items shown, pages, clicks, conversions, users."""

    impressions: int = 0
    requests: int = 0
    clicks: int = 0
    conversions: int = 0
    users: int = 0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantTally:
        """Inverse of `to_json`."""
        return cls(**data)


def tally_impression(tally: VariantTally | None, n_items: int, new_user: bool) -> VariantTally:
    """Count one served page of `n_items` items (mutates and returns `tally`)."""
    tally = VariantTally() if tally is None else tally
    tally.impressions += n_items
    tally.requests += 1
    tally.users += int(new_user)
    return tally


def tally_event(tally: VariantTally | None, event_type: str) -> VariantTally:
    """Count an event attributed to the variant via its request_id (mutates and returns `tally`)."""
    tally = VariantTally() if tally is None else tally
    if event_type == "click":
        tally.clicks += 1
    elif event_type in CONVERSION_TYPES:
        tally.conversions += 1
    return tally


def user_seen_key(experiment_id: str, variant: str, user_id: str) -> str:
    """Key of the first-seen entry of a user in a variant."""
    return f"{experiment_id}\x1f{variant}\x1f{user_id}"


def is_new_user(seen: float | None) -> bool:
    """Whether the user has no first-seen entry yet."""
    return seen is None


def mark_user_seen(seen: float | None, timestamp: float) -> float:
    """The first-seen time to store: the earliest of the stored one and `timestamp`."""
    return timestamp if seen is None else min(seen, timestamp)


@dataclass(frozen=True, slots=True)
class VariantMetrics:
    """Rates of one variant and how they compare with the control variant.

    CTR is clicks per item shown; conversion rate is conversions per served page. Lifts are
    relative ((rate - control) / control), p-values two-sided two-proportion z-tests; both are
    None for the control itself or when undefined.
    """

    variant: str
    impressions: int
    requests: int
    clicks: int
    conversions: int
    users: int
    ctr: float
    conversion_rate: float
    ctr_lift: float | None
    conversion_lift: float | None
    ctr_p_value: float | None
    conversion_p_value: float | None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form for the metrics route."""
        return asdict(self)


def rate(successes: int, trials: int) -> float:
    """successes / trials, capped at 1 (repeat clicks), 0 without trials."""
    return min(successes / trials, 1.0) if trials > 0 else 0.0


def lift(value: float, baseline: float) -> float | None:
    """Relative change of `value` over `baseline`; None when the baseline is 0."""
    return (value - baseline) / baseline if baseline > 0 else None


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when it is undefined."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    rate_a, rate_b = rate(successes_a, trials_a), rate(successes_b, trials_b)
    pooled = (rate_a * trials_a + rate_b * trials_b) / (trials_a + trials_b)
    variance = pooled * (1.0 - pooled) * (1.0 / trials_a + 1.0 / trials_b)
    if variance <= 0.0:
        return None
    z = (rate_b - rate_a) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2.0))


def variant_metrics(
    tallies: Mapping[str, VariantTally], control: str = CONTROL
) -> dict[str, VariantMetrics]:
    """Metrics of every variant against `control` (else the first variant given)."""
    if not tallies:
        return {}
    base_name = control if control in tallies else next(iter(tallies))
    base = tallies[base_name]
    return {name: _metrics(name, tally, base, name == base_name) for name, tally in tallies.items()}


def _metrics(
    name: str, tally: VariantTally, base: VariantTally, is_control: bool
) -> VariantMetrics:
    ctr = rate(tally.clicks, tally.impressions)
    conversion_rate = rate(tally.conversions, tally.requests)
    ctr_vs_base = (
        None
        if is_control
        else _compare(ctr, tally.clicks, tally.impressions, base.clicks, base.impressions)
    )
    conversion_vs_base = (
        None
        if is_control
        else _compare(
            conversion_rate, tally.conversions, tally.requests, base.conversions, base.requests
        )
    )
    return VariantMetrics(
        variant=name,
        impressions=tally.impressions,
        requests=tally.requests,
        clicks=tally.clicks,
        conversions=tally.conversions,
        users=tally.users,
        ctr=ctr,
        conversion_rate=conversion_rate,
        ctr_lift=ctr_vs_base[0] if ctr_vs_base else None,
        conversion_lift=conversion_vs_base[0] if conversion_vs_base else None,
        ctr_p_value=ctr_vs_base[1] if ctr_vs_base else None,
        conversion_p_value=conversion_vs_base[1] if conversion_vs_base else None,
    )


def _compare(
    value: float, successes: int, trials: int, base_successes: int, base_trials: int
) -> tuple[float | None, float | None]:
    """(lift, p-value) of one rate against the control's."""
    return (
        lift(value, rate(base_successes, base_trials)),
        two_proportion_p_value(base_successes, base_trials, successes, trials),
    )
