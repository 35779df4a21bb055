"""Candidates from every source merged into one set: columns that features and ranking read.

Each source (`models.sources`) answers with columns (ids, scores, anchors) and the merge works
on arrays: hundreds of candidates cost a few numpy calls, not hundreds of Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from models.bundle import ModelBundle, rows_of
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


def _ranks(found: SourceList) -> np.ndarray:
    """Each entry's rank within its list, best score first (ties: list order)."""
    ranks = np.empty(len(found.ids), dtype=np.float64)
    ranks[np.argsort(-found.scores, kind="stable")] = np.arange(len(found.ids))
    return ranks


def _weighted(found: SourceList, ranks: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """Rank within the list turned into 1 .. towards 0, times the entry's source weight."""
    scaled: np.ndarray = 1.0 - ranks / len(found.ids)
    if found.source is not None:
        weight: float | np.ndarray = weights.get(found.source, 1.0)
    else:
        weight = np.array(list(map(weights.get, found.sources, repeat(1.0))))
    merit: np.ndarray = scaled * weight
    return merit


def _source_order(found: SourceList) -> np.ndarray:
    """Each entry's position in SOURCES."""
    if found.source is not None:
        return np.full(len(found.ids), SOURCE_ORDER[found.source])
    return np.fromiter(map(SOURCE_ORDER.__getitem__, found.sources), np.int64, len(found.ids))


def _by_merit(ids: Callable[[], list[str]], merit: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions sorted by merit (best first), then source order, then item id (`ids` gives
    the items' ids, asked for only when merit and source order tie)."""
    ranked = np.lexsort((order, -merit))
    tied = (np.diff(merit[ranked]) == 0) & (np.diff(order[ranked]) == 0)
    if not tied.any():
        return ranked
    return np.lexsort((np.array(ids()), order, -merit))


def _joined_rows(lists: Sequence[SourceList]) -> np.ndarray | None:
    """The lists' bundle rows end to end (None unless every list has them)."""
    held = [found.rows for found in lists if found.rows is not None]
    return np.concatenate(held) if len(held) == len(lists) else None


def _item_keys(ids: list[str], rows: np.ndarray | None) -> np.ndarray:
    """One integer per entry, equal for entries of the same item: its bundle row, past the
    bundle's rows for items it lacks (by id), by id throughout without rows."""
    if rows is None:
        slot: dict[str, int] = {}
        return np.fromiter((slot.setdefault(i, len(slot)) for i in ids), np.int64, len(ids))
    keys = rows.astype(np.int64, copy=True)
    outside = np.flatnonzero(rows < 0).tolist()
    if outside:
        base, extra = int(rows.max(initial=-1)) + 1, dict[str, int]()
        for position in outside:
            keys[position] = base + extra.setdefault(ids[position], len(extra))
    return keys


@dataclass(frozen=True, slots=True)
class _Entries:
    """Every entry of the lists end to end: merit, rank (the order met in), raw score, source
    order and item key."""

    merit: np.ndarray
    rank: np.ndarray
    raw: np.ndarray
    order: np.ndarray
    key: np.ndarray

    def take(self, rows: np.ndarray) -> _Entries:
        """The entries at `rows`."""
        return _Entries(
            self.merit[rows], self.rank[rows], self.raw[rows], self.order[rows], self.key[rows]
        )


def _entries(kept: Sequence[SourceList], weights: dict[str, float], key: np.ndarray) -> _Entries:
    ranks = [_ranks(found) for found in kept]
    offsets = np.cumsum([0] + [len(found.ids) for found in kept[:-1]]).tolist()
    return _Entries(
        np.concatenate([_weighted(f, r, weights) for f, r in zip(kept, ranks, strict=True)]),
        np.concatenate([r + offset for r, offset in zip(ranks, offsets, strict=True)]),
        np.concatenate([found.scores for found in kept]),
        np.concatenate([_source_order(found) for found in kept]),
        key,
    )


def merge_lists(
    lists: Sequence[SourceList],
    exclude: frozenset[str],
    weights: dict[str, float],
    item_index: dict[str, int] | None = None,
) -> CandidateSet:
    """Dedupe by item, best merit first (ties: earlier source, then item id); see `merge`.
    With `item_index` (the bundle's, when every list carries bundle rows) items are told
    apart and excluded by row."""
    kept = [found for found in lists if found.ids]
    if not kept:
        return _EMPTY
    ids = list(chain.from_iterable(found.ids for found in kept))
    rows = _joined_rows(kept)
    keys = _item_keys(ids, rows if item_index is not None else None)
    keep = _kept_entries(ids, rows, exclude, item_index)
    if not len(keep):
        return _EMPTY
    entries = _entries(kept, weights, keys).take(keep)
    best = np.lexsort((entries.rank, entries.order, -entries.merit, entries.key))
    met = entries.key[best]
    new = np.r_[True, met[1:] != met[:-1]]
    first = best[new]
    item = np.empty(len(best), dtype=np.int64)
    item[best] = np.cumsum(new) - 1  # items numbered in key order
    table = np.full((int(item.max()) + 1, len(SOURCES)), np.nan)
    table[item, entries.order] = -np.inf
    np.fmax.at(table, (item, entries.order), entries.raw)
    ranked = _by_merit(lambda: pick(ids, keep[first]), entries.merit[first], entries.order[first])
    chosen = first[ranked]
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


def _kept_entries(
    ids: list[str],
    rows: np.ndarray | None,
    exclude: frozenset[str],
    item_index: dict[str, int] | None,
) -> np.ndarray:
    """Positions of the entries whose item is not in `exclude`: by bundle row where the
    entry has one and `item_index` is given, by id otherwise."""
    if not exclude:
        return np.arange(len(ids))
    if rows is None or item_index is None:
        return np.flatnonzero(~np.fromiter(map(exclude.__contains__, ids), bool, len(ids)))
    banned = np.sort(rows_of(item_index, list(exclude)))
    at = np.minimum(np.searchsorted(banned, rows), len(banned) - 1)
    barred = banned[at] == rows
    outside = np.flatnonzero(rows < 0).tolist()
    barred[outside] = [ids[position] in exclude for position in outside]
    return np.flatnonzero(~barred)


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
    return merge_lists(lists, config.exclude, config.source_weights, index).head(n)


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
