"""The metrics report of one experiment: per-variant user-level estimates with 95% intervals,
each treatment against the control, the sample-ratio check and notices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from api.experiments import Experiment
from tables.experiment_stats import (
    CONFIDENCE,
    Comparison,
    Estimate,
    RatioSums,
    compare,
    notices,
    ratio,
    rounded,
    sample_ratio,
)
from tables.timeline import Timeline, points
from tables.variant_sums import VariantSums

METRICS: dict[str, Callable[[VariantSums], RatioSums]] = {
    "ctr": VariantSums.ctr,
    "conversion_rate": VariantSums.conversion_rate,
    "user_conversion": VariantSums.user_conversion,
}
"""Clicks per item shown, conversions per page, share of users who converted."""
METHOD = (
    "users are the unit: ratio metrics by the delta method over per-user sums, normal 95% "
    "intervals (a rate's cut at 0); differences and p-values against the control (two-sided "
    "z-test)"
)


def report(
    experiment: Experiment,
    sums: Mapping[str, VariantSums],
    timelines: Mapping[str, Timeline] | None = None,
) -> dict[str, Any]:
    """The JSON body of `GET /v1/experiments/{id}/metrics`."""
    live = experiment.live
    totals = {v.name: sums.get(v.name) or VariantSums() for v in live}
    control = experiment.control
    estimates = {
        name: {metric: ratio(of(s)) for metric, of in METRICS.items()} for name, s in totals.items()
    }
    users = {name: s.users for name, s in totals.items()}
    srm = sample_ratio(users, {v.name: v.weight for v in live})
    return {
        "experiment_id": experiment.id,
        "run_id": experiment.run_id,
        "status": experiment.status,
        "layer": experiment.layer,
        "control": control,
        "confidence": CONFIDENCE,
        "method": METHOD,
        "variants": [
            _variant(v.name, v.weight, totals[v.name], estimates[v.name], estimates[control])
            for v in live
        ],
        "shadow_variants": [v.name for v in experiment.shadows],
        "sample_ratio": None
        if srm is None
        else {
            "chi_square": round(srm.chi_square, 6),
            "p_value": srm.p_value,
            "mismatch": srm.mismatch,
            "expected": {k: round(e, 3) for k, e in srm.expected.items()},
            "observed": srm.observed,
        },
        "notices": [{"code": n.code, "message": n.message} for n in notices(users, srm)],
        "timeline": points({v.name: (timelines or {}).get(v.name) or Timeline() for v in live}),
    }


def _variant(
    name: str,
    weight: float,
    sums: VariantSums,
    own: Mapping[str, Estimate],
    base: Mapping[str, Estimate],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "variant": name,
        "weight": weight,
        "users": sums.users,
        "requests": sums.requests,
        "impressions": sums.impressions,
        "clicks": sums.clicks,
        "conversions": sums.conversions,
        "converted_users": sums.converted,
    }
    for metric, estimate in own.items():
        row |= _metric(metric, estimate, None if own is base else compare(base[metric], estimate))
    return row


def _metric(metric: str, estimate: Estimate, against: Comparison | None) -> dict[str, Any]:
    interval = estimate.interval
    fields: dict[str, Any] = {
        metric: _round(estimate.value),
        f"{metric}_ci": None if interval is None else rounded((max(interval[0], 0.0), interval[1])),
    }
    difference = against.difference if against else Estimate(None)
    lift = against.lift if against else Estimate(None)
    return fields | {
        f"{metric}_difference": _round(difference.value),
        f"{metric}_difference_ci": rounded(difference.interval),
        f"{metric}_lift": _round(lift.value),
        f"{metric}_lift_ci": rounded(lift.interval),
        f"{metric}_p_value": against.p_value if against else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
