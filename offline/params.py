"""Every knob of one training run, with defaults that train ML-1M in well under a minute.

Defaults measured on MovieLens (bench/offline/quality.py): 32 factors with confidence 1 + rating - 2
match implicit's own ALS; recency decay is off by default because a half-life measured from the
newest event all but erases the older years of a multi-year log (set `half_life_days` for
catalogs where interest fades quickly).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from models.weights import DEFAULT_TYPE_WEIGHTS, EventWeighting
from offline.als import AlsParams
from offline.etl import EtlParams
from streamrec.interactions import HISTORY_SIZE

RANKER_SHARES: dict[str, float] = {
    "sequence": 0.7,
    "als": 0.7,
    "ease": 0.7,
    "item2item": 0.15,
    "next": 0.1,
    "content": 0.05,
    "trending": 0.05,
    "rebuy": 0.05,
    "explore": 0.05,
}
"""Candidate mix of ranker training and offline ranking (None: the serving default). Measured
on MovieLens (bench/offline/quality.py), sets led by ALS and user-level EASE give the ranker more
relevant items to order; the manifest records it under `parameters.candidate_shares` for
serving to use."""


@dataclass(frozen=True)
class TrainParams:
    """Training parameters; `until` (epoch seconds) ends the data window, exclusive."""

    factors: int = 32
    regularization: float = 0.05
    iterations: int = 10
    warm_iterations: int = 4
    alpha: float = 1.0
    seed: int = 0
    num_threads: int = 2
    type_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TYPE_WEIGHTS))
    rating_mode: str = "shifted"
    half_life_days: float | None = None
    max_events_per_day: float = 1000.0
    until: float | None = None
    next_top: int = 20
    similar_top: int = 1000
    similar_l2: float = 1000.0
    similar_max_items: int = 8000
    content_dims: int = 48
    retriever: str = "annoy"
    annoy_trees: int = 50
    history_size: int = HISTORY_SIZE
    ranker: bool = True
    ranker_users: int = 8000
    ranker_candidates: int = 50
    candidate_shares: dict[str, float] | None = field(default_factory=lambda: dict(RANKER_SHARES))
    ranker_iterations: int = 150
    ranker_depth: int = 6
    ranker_learning_rate: float = 0.05
    ranker_seeds: int = 4
    ranker_threads: int = 2
    label_fraction: float = 0.1
    label_split: str = "last"
    ranker_moments: bool = True
    """With the `last` split, features of each list as serving would have computed them at its
    target's time (item signals before it), not at the end of the log."""
    sequence: bool = True

    @property
    def weighting(self) -> EventWeighting:
        """The event weighting these parameters describe."""
        return EventWeighting(dict(self.type_weights), self.rating_mode, self.half_life_days)

    @property
    def als(self) -> AlsParams:
        """The ALS part."""
        return AlsParams(
            self.factors,
            self.regularization,
            self.iterations,
            self.alpha,
            self.seed,
            self.num_threads,
        )

    @property
    def warm_als(self) -> AlsParams:
        """The ALS part when continuing from the ranker's factors (fewer iterations)."""
        return replace(self.als, iterations=self.warm_iterations)

    @property
    def etl(self) -> EtlParams:
        """The cleaning and weighting part."""
        return EtlParams(self.weighting, self.max_events_per_day, self.until)

    def to_json(self) -> dict[str, Any]:
        """Plain values for the manifest."""
        return asdict(self)
