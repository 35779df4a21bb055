"""User-level statistics of an experiment: ratio metrics by the delta method, differences and
lifts with 95% intervals, a sample-ratio-mismatch test, and notices while samples are small.

Users are the randomisation unit, so a user's impressions and clicks are not independent
trials. A ratio metric (clicks per impression) is estimated as sum(y) / sum(x) over users and
its variance by the delta method (Deng, Knoblich and Lu, "Applying the Delta Method in Metric
Analytics", KDD 2018): Var(R) ~ (s_yy - 2 R s_xy + R^2 s_xx) / (n mean_x^2), with sample
(co)variances of the per-user values. Everything is computed from additive per-variant sums.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from scipy.special import gammaincc

Z_95 = NormalDist().inv_cdf(0.975)
CONFIDENCE = 0.95
SRM_ALPHA = 0.001
"""A split whose chi-square p-value falls below this is a sample ratio mismatch."""
MIN_USERS = 100
"""Below this many users in a variant the normal approximations are not yet trustworthy."""


@dataclass(frozen=True, slots=True)
class RatioSums:
    """Sums over users of a numerator y and a denominator x: n, Σx, Σy, Σx², Σy², Σxy."""

    n: int = 0
    x: float = 0.0
    y: float = 0.0
    xx: float = 0.0
    yy: float = 0.0
    xy: float = 0.0


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its standard error and 95% interval (None where undefined)."""

    value: float | None
    se: float | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The two-sided 95% normal interval."""
        if self.value is None or self.se is None:
            return None
        return (self.value - Z_95 * self.se, self.value + Z_95 * self.se)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A treatment against the control: absolute difference, relative lift, p-value."""

    difference: Estimate
    lift: Estimate
    p_value: float | None


def ratio(sums: RatioSums) -> Estimate:
    """Σy / Σx with its delta-method standard error (None with fewer than two users)."""
    if sums.n <= 0 or sums.x <= 0:
        return Estimate(None)
    value = sums.y / sums.x
    if sums.n < 2:
        return Estimate(value)
    n = sums.n
    mean_x = sums.x / n
    var_x = (sums.xx - sums.x * sums.x / n) / (n - 1)
    var_y = (sums.yy - sums.y * sums.y / n) / (n - 1)
    cov = (sums.xy - sums.x * sums.y / n) / (n - 1)
    variance = (var_y - 2 * value * cov + value * value * var_x) / (n * mean_x * mean_x)
    return Estimate(value, math.sqrt(max(variance, 0.0)))


def compare(control: Estimate, treatment: Estimate) -> Comparison:
    """Difference (treatment - control), lift (treatment / control - 1) and a two-sided z-test;
    the groups are independent, so variances add (the lift's by the delta method)."""
    if control.value is None or treatment.value is None:
        return Comparison(Estimate(None), Estimate(None), None)
    difference = treatment.value - control.value
    lift_value = difference / control.value if control.value > 0 else None
    if control.se is None or treatment.se is None:
        return Comparison(Estimate(difference), Estimate(lift_value), None)
    se = math.hypot(control.se, treatment.se)
    lift = Estimate(lift_value)
    if lift_value is not None:
        base = control.value
        lift_se = math.hypot(treatment.se / base, treatment.value * control.se / (base * base))
        lift = Estimate(lift_value, lift_se)
    p_value = None if se <= 0 else math.erfc(abs(difference) / se / math.sqrt(2.0))
    return Comparison(Estimate(difference, se), lift, p_value)


@dataclass(frozen=True, slots=True)
class SampleRatio:
    """Pearson's chi-square of the users per variant against the declared weights."""

    chi_square: float
    p_value: float
    expected: dict[str, float]
    observed: dict[str, int]

    @property
    def mismatch(self) -> bool:
        """Whether the split differs from the declared one beyond chance (p < SRM_ALPHA)."""
        return self.p_value < SRM_ALPHA


def sample_ratio(users: Mapping[str, int], weights: Mapping[str, float]) -> SampleRatio | None:
    """The SRM test over the variants of `weights`; None without users or with one variant."""
    total = sum(users.get(name, 0) for name in weights)
    weight_sum = sum(weights.values())
    if total <= 0 or len(weights) < 2 or weight_sum <= 0:
        return None
    expected = {name: total * weight / weight_sum for name, weight in weights.items()}
    observed = {name: users.get(name, 0) for name in weights}
    chi_square = sum((observed[k] - expected[k]) ** 2 / expected[k] for k in weights)
    p_value = float(gammaincc((len(weights) - 1) / 2, chi_square / 2))
    return SampleRatio(chi_square, p_value, expected, observed)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a reader of the metrics must know before trusting them."""

    code: str
    message: str


def notices(users: Mapping[str, int], srm: SampleRatio | None) -> list[Notice]:
    """Small samples and a sample ratio mismatch, in the order they should be read."""
    found: list[Notice] = []
    small = sorted(name for name, count in users.items() if count < MIN_USERS)
    if small:
        found.append(
            Notice(
                "small_sample",
                f"fewer than {MIN_USERS} users in {', '.join(small)}: intervals and p-values "
                "rest on normal approximations that need more users; do not decide yet",
            )
        )
    if srm is not None and srm.mismatch:
        found.append(
            Notice(
                "sample_ratio_mismatch",
                f"users per variant differ from the declared split (chi-square p = "
                f"{srm.p_value:.2g} < {SRM_ALPHA}): assignment or logging is broken; "
                "the comparison is not trustworthy",
            )
        )
    return found


def rounded(values: Sequence[float] | None, digits: int = 6) -> list[float] | None:
    """An interval as a JSON list with a fixed number of digits."""
    return None if values is None else [round(v, digits) for v in values]
