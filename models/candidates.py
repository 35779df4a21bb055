"""Candidates from every source merged into one set: columns that features and ranking read.

Each source (`models.sources`) answers with columns (ids, scores, anchors) and the merge works
on arrays: hundreds of candidates cost a few numpy calls, not hundreds of Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from models.bundle import ModelBundle
from models.fold import UserFold, fold_user
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


def _merits(found: SourceList, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Rank within the list (best score first) turned into 1 .. towards 0, times the weight."""
    count = len(found.ids)
    ranks = np.empty(count, dtype=np.float64)
    ranks[np.argsort(-found.scores, kind="stable")] = np.arange(count)
    if len(set(found.sources)) == 1:
        return (1.0 - ranks / count) * weights.get(found.sources[0], 1.0), ranks
    weight = np.array(list(map(weights.get, found.sources, repeat(1.0))))
    return (1.0 - ranks / count) * weight, ranks


def _by_merit(ids: list[str], merit: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions sorted by merit (best first), then source order, then item id."""
    ranked = np.lexsort((order, -merit))
    tied = (np.diff(merit[ranked]) == 0) & (np.diff(order[ranked]) == 0)
    if not tied.any():
        return ranked
    return np.lexsort((np.array(ids), order, -merit))


def _joined_rows(lists: Sequence[SourceList]) -> np.ndarray | None:
    """The lists' bundle rows end to end (None unless every list has them)."""
    held = [found.rows for found in lists if found.rows is not None]
    return np.concatenate(held) if len(held) == len(lists) else None


def merge_lists(
    lists: Sequence[SourceList], exclude: frozenset[str], weights: dict[str, float]
) -> CandidateSet:
    """Dedupe by item, best merit first (ties: earlier source, then item id); see `merge`."""
    kept = [found for found in lists if found.ids]
    if not kept:
        return CandidateSet([], [], np.empty(0), [], np.empty((0, len(SOURCES))))
    merits, ranks = zip(*(_merits(found, weights) for found in kept), strict=True)
    ids = [item for found in kept for item in found.ids]
    sources = [source for found in kept for source in found.sources]
    anchors = [anchor for found in kept for anchor in found.anchors]
    offsets = np.cumsum([0] + [len(found.ids) for found in kept[:-1]])
    merit = np.concatenate(merits)
    rank = np.concatenate([r + offset for r, offset in zip(ranks, offsets, strict=True)])
    raw = np.concatenate([found.scores for found in kept])
    rows = _joined_rows(kept)
    order = np.concatenate([np.full(len(f.ids), SOURCE_ORDER[f.sources[0]]) for f in kept])
    if any(len(set(found.sources)) > 1 for found in kept):
        order = np.fromiter(map(SOURCE_ORDER.__getitem__, sources), np.int64, len(sources))
    if exclude:
        keep = np.flatnonzero(~np.fromiter(map(exclude.__contains__, ids), bool, len(ids)))
        ids, sources, anchors = pick(ids, keep), pick(sources, keep), pick(anchors, keep)
        merit, rank, raw, order = merit[keep], rank[keep], raw[keep], order[keep]
        rows = None if rows is None else rows[keep]
        if not ids:
            return CandidateSet([], [], np.empty(0), [], np.empty((0, len(SOURCES))))
    slot = {item: position for position, item in enumerate(dict.fromkeys(ids))}
    item = np.fromiter(map(slot.__getitem__, ids), np.int64, len(ids))
    best = np.lexsort((rank, order, -merit, item))  # rank: the order the items were met in
    first = best[np.r_[True, item[best][1:] != item[best][:-1]]]
    table = np.full((len(slot), len(SOURCES)), np.nan)
    table[item, order] = -np.inf
    np.fmax.at(table, (item, order), raw)
    final = first[_by_merit(pick(ids, first), merit[first], order[first])]
    return CandidateSet(
        pick(ids, final),
        pick(sources, final),
        merit[final],
        pick(anchors, final),
        table[item[final]],
        None if rows is None else rows[final],
    )


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
    return merge_lists(lists, config.exclude, config.source_weights).head(n)


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
