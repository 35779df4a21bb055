"""Candidates from every source merged into one set: columns that features and ranking read.

Each source (`models.sources`) answers with columns (ids, scores, anchors) and the merge works
on arrays: hundreds of candidates cost a few numpy calls, not hundreds of Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from models.bundle import ModelBundle
from models.fold import UserFold, fold_user
from models.merge import (
    best_first,
    best_scores,
    entries_of,
    item_keys,
    item_numbers,
    joined_rows,
    kept_entries,
)
from models.source_list import SourceList, pick
from models.sources import (
    DEFAULT_SHARES,
    DEFAULT_SOURCE_WEIGHTS,
    GENERATORS,
    RECENCY_STEP,
    SOURCE_ORDER,
    SOURCES,
    CandidateConfig,
    SourceContext,
    recent_items,
)
from models.types import Candidate, MetaLookup, SignalsLookup, UserView

__all__ = [
    "DEFAULT_SHARES",
    "DEFAULT_SOURCE_WEIGHTS",
    "GENERATORS",
    "RECENCY_STEP",
    "SOURCES",
    "SOURCE_ORDER",
    "CandidateConfig",
    "CandidateSet",
    "SourceList",
    "generate",
    "generate_set",
    "merge",
    "merge_lists",
    "recent_items",
]


@dataclass(frozen=True, slots=True)
class CandidateSet:
    """Merged candidates as columns, best first: what features and ranking read.

    `scores` is the merge's merit; `source_scores[i, j]` the raw score source SOURCES[j] gave
    item i (NaN where it did not propose it); `rows` each item's row in the bundle that
    generated the set (-1: not in it), None when not known.
    """

    ids: list[str]
    sources: list[str]
    scores: np.ndarray
    anchors: list[str | None]
    source_scores: np.ndarray
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int] | np.ndarray) -> CandidateSet:
        """The candidates at `rows`, in that order."""
        picked = np.asarray(rows, dtype=np.int64)
        return CandidateSet(
            pick(self.ids, picked),
            pick(self.sources, picked),
            self.scores[picked],
            pick(self.anchors, picked),
            self.source_scores[picked],
            None if self.rows is None else self.rows[picked],
        )

    def head(self, n: int) -> CandidateSet:
        """The first n candidates."""
        return self if n >= len(self) else self.take(np.arange(n))

    def candidate(self, row: int, score: float | None = None) -> Candidate:
        """Candidate `row` as an object (with `score` instead of the merit when given)."""
        present = ~np.isnan(self.source_scores[row])
        scores = {
            SOURCES[j]: float(self.source_scores[row, j]) for j in np.flatnonzero(present).tolist()
        }
        value = float(self.scores[row]) if score is None else score
        return Candidate(self.ids[row], self.sources[row], value, self.anchors[row], scores)

    def candidates(self) -> list[Candidate]:
        """Every candidate as an object, best first."""
        return [self.candidate(row) for row in range(len(self))]

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> CandidateSet:
        """Columns of Candidate objects (sources outside SOURCES keep no score column)."""
        table = np.full((len(candidates), len(SOURCES)), np.nan)
        for row, found in enumerate(candidates):
            for source, score in found.source_scores.items():
                table[row, SOURCE_ORDER[source]] = score
        columns = SourceList.of(candidates)
        return cls(columns.ids, columns.sources, columns.scores, columns.anchors, table)


def merge_lists(
    lists: Sequence[SourceList],
    exclude: frozenset[str],
    weights: dict[str, float],
    item_index: dict[str, int] | None = None,
    limit: int | None = None,
) -> CandidateSet:
    """Dedupe by item, best merit first (ties: earlier source, then item id); see `merge`.
    With `item_index` (the bundle's, when every list carries bundle rows) items are told
    apart and excluded by row; with `limit`, only the first `limit` items are made."""
    kept = [found for found in lists if found.ids]
    if not kept:
        return _EMPTY
    ids = list(chain.from_iterable(found.ids for found in kept))
    rows = joined_rows(kept)
    keys = item_keys(ids, rows if item_index is not None else None)
    keep = kept_entries(ids, rows, exclude, item_index)
    if not len(keep):
        return _EMPTY
    entries = entries_of(kept, weights, keys).take(keep)
    item, items = item_numbers(entries.key)
    chosen = best_first(entries, item, items, lambda at: pick(ids, keep[at]))[:limit]
    table = best_scores(item, entries.order, entries.raw, items)
    final = keep[chosen]
    anchors = list(chain.from_iterable(found.anchors for found in kept))
    return CandidateSet(
        pick(ids, final),
        [SOURCES[order] for order in entries.order[chosen].tolist()],
        entries.merit[chosen],
        pick(anchors, final),
        table[item[chosen]],
        None if rows is None else rows[final],
    )


_EMPTY = CandidateSet([], [], np.empty(0), [], np.empty((0, len(SOURCES))))


def merge(
    lists: Sequence[list[Candidate]],
    exclude: frozenset[str] = frozenset(),
    source_weights: dict[str, float] | None = None,
) -> list[Candidate]:
    """Dedupe by item, best first. An item keeps its best source and that source's anchor, where
    best is the rank within the source (1 first, towards 0 last) times the source's weight,
    ties going to the earlier of SOURCES; every source's raw score stays in `source_scores`."""
    weights = DEFAULT_SOURCE_WEIGHTS if source_weights is None else source_weights
    columns = [SourceList.of(candidates) for candidates in lists]
    return merge_lists(columns, exclude, weights).candidates()


def generate_set(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    now: float,
    n: int = 300,
    *,
    config: CandidateConfig | None = None,
    fold: UserFold | None = None,
) -> CandidateSet:
    """Up to n merged candidates from every source, best first, as columns (carrying their
    bundle rows when there is a bundle).

    With `bundle=None` (before the first training) only model-free sources answer: trending from
    `config.trending_items` scored by live signals, exploration from `config.explore_pool`,
    and rebuy when enabled. Catalog filters (stock, deletions) are the rules' job. `fold` is
    the user's vector and EASE scores when the caller has them (computed here otherwise).
    """
    config = config or CandidateConfig()
    weighting = bundle.weighting if bundle is not None else None
    recent = recent_items(user, config.recent_items, weighting)
    fold = fold_user(bundle, user, now) if fold is None else fold
    ctx = SourceContext(bundle, user, signals, config, now, recent, fold)
    lists = []
    for source in SOURCES:
        share = config.shares.get(source, 0.0)
        if share > 0:
            found = GENERATORS[source](ctx, max(math.ceil(share * n), 1))
            lists.append(found if bundle is None else found.with_rows(bundle))
    index = bundle.item_index if bundle is not None else None
    return merge_lists(lists, config.exclude, config.source_weights, index, n)


def generate(
    bundle: ModelBundle | None,
    user: UserView,
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    n: int = 300,
    *,
    config: CandidateConfig | None = None,
) -> list[Candidate]:
    """`generate_set` as Candidate objects; `meta` is accepted for symmetry with features."""
    del meta
    return generate_set(bundle, user, signals, now, n, config=config).candidates()
