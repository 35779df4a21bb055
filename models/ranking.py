"""Rank candidates with the bundle's ranker, or the baseline before any ranker exists."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.bundle import ModelBundle
from models.features import FEATURE_NAMES, build_features
from models.rankers import BaselineRanker, Ranker
from models.types import Candidate, MetaLookup, SignalsLookup, UserView

BASELINE = BaselineRanker(FEATURE_NAMES)


def ranker_of(bundle: ModelBundle | None) -> Ranker:
    """The bundle's trained ranker, else the retrieval-score baseline (also for a ranker
    trained on other feature columns, as a version from before a feature change)."""
    if bundle is None or bundle.ranker is None:
        return BASELINE
    if getattr(bundle.ranker, "feature_count", len(FEATURE_NAMES)) != len(FEATURE_NAMES):
        return BASELINE
    return bundle.ranker


def rank(
    bundle: ModelBundle | None,
    user: UserView,
    candidates: Sequence[Candidate],
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    *,
    ranker: Ranker | None = None,
) -> list[tuple[Candidate, float]]:
    """Candidates with their ranker scores, best first (works with `bundle=None`)."""
    if not candidates:
        return []
    features, _ = build_features(bundle, user, candidates, signals, meta, now)
    scores = (ranker or ranker_of(bundle)).score(features)
    order = np.argsort(-scores, kind="stable")
    return [(candidates[i], float(scores[i])) for i in order]
