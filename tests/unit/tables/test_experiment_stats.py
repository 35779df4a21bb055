"""User-level statistics: the delta method on a worked example and by simulation, SRM, notices."""

from __future__ import annotations

import math
import random
from statistics import NormalDist, pvariance

import pytest
from scipy.stats import chi2

from tables.experiment_stats import (
    MIN_USERS,
    Estimate,
    RatioSums,
    compare,
    notices,
    ratio,
    sample_ratio,
)


def sums_of(pairs: list[tuple[float, float]]) -> RatioSums:
    """Per-user (x, y) folded into the sums the tallies keep."""
    return RatioSums(
        n=len(pairs),
        x=sum(x for x, _ in pairs),
        y=sum(y for _, y in pairs),
        xx=sum(x * x for x, _ in pairs),
        yy=sum(y * y for _, y in pairs),
        xy=sum(x * y for x, y in pairs),
    )


def test_the_delta_method_matches_a_worked_example() -> None:
    # Three users shown 1, 2, 3 items who clicked 0, 1, 3 times: R = 4/6, sample variances
    # s_xx = 1, s_yy = 7/3, s_xy = 3/2, so Var(R) = (7/3 - 2 R 3/2 + R^2) / (3 * 2^2) = 7/108.
    estimate = ratio(sums_of([(1, 0), (2, 1), (3, 3)]))
    assert estimate.value == pytest.approx(2 / 3)
    assert estimate.se == pytest.approx(math.sqrt(7 / 108))
    half = NormalDist().inv_cdf(0.975) * math.sqrt(7 / 108)
    assert estimate.interval == pytest.approx((2 / 3 - half, 2 / 3 + half))


def test_with_one_trial_per_user_the_delta_method_is_the_binomial_variance() -> None:
    pairs = [(1.0, 1.0)] * 30 + [(1.0, 0.0)] * 70
    estimate = ratio(sums_of(pairs))
    assert estimate.value == pytest.approx(0.3)
    assert estimate.se == pytest.approx(math.sqrt(0.3 * 0.7 / 99))


def test_the_delta_method_variance_matches_the_spread_of_simulated_experiments() -> None:
    """Users differ in click propensity, so clicks cluster by user: the delta-method standard
    error agrees with the spread of the ratio over replications; the naive binomial one
    (impressions as independent trials) is far too small."""
    rng = random.Random(7)

    def experiment() -> RatioSums:
        pairs = []
        for _ in range(400):
            shown = rng.randint(1, 40)
            propensity = rng.betavariate(0.5, 4.5)
            pairs.append((shown, sum(rng.random() < propensity for _ in range(shown))))
        return sums_of(pairs)

    runs = [experiment() for _ in range(300)]
    ratios = [r.y / r.x for r in runs]
    spread = math.sqrt(pvariance(ratios))
    delta_se = sum((ratio(r).se or 0.0) for r in runs) / len(runs)
    naive_se = sum(math.sqrt((r.y / r.x) * (1 - r.y / r.x) / r.x) for r in runs) / len(runs)
    assert delta_se == pytest.approx(spread, rel=0.15)
    assert naive_se < 0.5 * spread


def test_a_difference_has_added_variances_and_a_two_sided_p_value() -> None:
    control, treatment = Estimate(0.10, 0.01), Estimate(0.13, 0.01)
    result = compare(control, treatment)
    se = math.sqrt(0.01**2 + 0.01**2)
    assert result.difference.value == pytest.approx(0.03)
    assert result.difference.se == pytest.approx(se)
    assert result.p_value == pytest.approx(2 * (1 - NormalDist().cdf(0.03 / se)))
    assert result.lift.value == pytest.approx(0.3)
    assert result.lift.se == pytest.approx(math.hypot(0.01 / 0.1, 0.13 * 0.01 / 0.01))


def test_estimates_are_undefined_without_users_or_with_one() -> None:
    assert ratio(RatioSums()).value is None
    one = ratio(sums_of([(5, 1)]))
    assert (one.value, one.se, one.interval) == (0.2, None, None)
    assert compare(Estimate(None), one).p_value is None


def test_the_sample_ratio_test_is_pearsons_chi_square_against_the_declared_split() -> None:
    srm = sample_ratio({"control": 1000, "treatment": 1100}, {"control": 1.0, "treatment": 1.0})
    assert srm is not None
    assert srm.chi_square == pytest.approx(2 * 50**2 / 1050)
    assert srm.p_value == pytest.approx(chi2.sf(2 * 50**2 / 1050, 1))
    assert not srm.mismatch
    skewed = sample_ratio({"a": 500, "b": 500, "c": 1100}, {"a": 1, "b": 1, "c": 2})
    assert skewed is not None and skewed.p_value == pytest.approx(chi2.sf(skewed.chi_square, 2))
    broken = sample_ratio({"control": 1000, "treatment": 1250}, {"control": 1, "treatment": 1})
    assert broken is not None and broken.mismatch
    assert sample_ratio({}, {"control": 1, "treatment": 1}) is None


def test_notices_name_small_variants_and_a_mismatched_split() -> None:
    users = {"control": MIN_USERS - 1, "treatment": 3 * MIN_USERS}
    srm = sample_ratio(users, {"control": 1, "treatment": 1})
    codes = [n.code for n in notices(users, srm)]
    assert codes == ["small_sample", "sample_ratio_mismatch"]
    assert "control" in notices(users, srm)[0].message
    balanced = {"control": 5000, "treatment": 5010}
    assert notices(balanced, sample_ratio(balanced, {"control": 1, "treatment": 1})) == []
