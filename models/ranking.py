"""Rank candidates with the bundle's ranker, or the baseline before any ranker exists."""

from __future__ import annotations

from models.bundle import ModelBundle
from models.features import FEATURE_NAMES
from models.rankers import BaselineRanker, Ranker

BASELINE = BaselineRanker(FEATURE_NAMES)


def ranker_of(bundle: ModelBundle | None) -> Ranker:
    """The bundle's trained ranker, else the retrieval-score baseline (also for a ranker
    trained on other feature columns, as a version from before a feature change)."""
    if bundle is None or bundle.ranker is None:
        return BASELINE
    if getattr(bundle.ranker, "feature_count", len(FEATURE_NAMES)) != len(FEATURE_NAMES):
        return BASELINE
    return bundle.ranker
