"""Plain reference versions of serving steps the pipeline runs in bulk, for the tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.bundle import ModelBundle
from models.consumption import ConsumptionPolicy
from models.features import build_features
from models.rankers import Ranker
from models.ranking import ranker_of
from models.rules import Filters, is_allowed
from models.types import Candidate, MetaLookup, SignalsLookup, UserView


def apply_filters(
    candidates: Sequence[Candidate], meta: MetaLookup, filters: Filters
) -> list[Candidate]:
    """Drop deleted, out-of-stock, excluded and off-category items; first source wins."""
    seen: set[str] = set()
    kept: list[Candidate] = []
    for candidate in candidates:
        if candidate.item_id in seen:
            continue
        seen.add(candidate.item_id)
        if is_allowed(meta(candidate.item_id), candidate.item_id, filters):
            kept.append(candidate)
    return kept


def split_consumed(
    user: UserView, policy: ConsumptionPolicy
) -> tuple[frozenset[str], dict[str, str]]:
    """(ids never to show again, ids that may return mapped to their strongest type)."""
    return policy.never(user.interacted), policy.revisit(user.interacted)


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
