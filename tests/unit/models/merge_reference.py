"""The candidate merge as it was before it worked on every list at once, for the tests."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np

from models.candidates import CandidateSet
from models.merge import Entries, by_merit, item_keys, joined_rows
from models.source_list import SourceList, pick
from models.sources import SOURCE_ORDER, SOURCES


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


def _entries(kept: Sequence[SourceList], weights: dict[str, float], key: np.ndarray) -> Entries:
    ranks = [_ranks(found) for found in kept]
    offsets = np.cumsum([0] + [len(found.ids) for found in kept[:-1]]).tolist()
    return Entries(
        np.concatenate([_weighted(f, r, weights) for f, r in zip(kept, ranks, strict=True)]),
        np.concatenate([r + offset for r, offset in zip(ranks, offsets, strict=True)]),
        np.concatenate([found.scores for found in kept]),
        np.concatenate([_source_order(found) for found in kept]),
        key,
    )


def merge_lists_reference(
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
        return CandidateSet.of([])
    ids = list(chain.from_iterable(found.ids for found in kept))
    rows = joined_rows(kept)
    keys = item_keys(ids, rows if item_index is not None else None)
    keep = _kept_entries(ids, rows, exclude, item_index)
    if not len(keep):
        return CandidateSet.of([])
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
    ranked = by_merit(lambda: pick(ids, keep[first]), entries.merit[first], entries.order[first])
    chosen = first[ranked]
    final = keep[chosen]
    anchors = list(chain.from_iterable(found.anchors for found in kept))
    labels = entries.order[chosen].tolist()
    at = None if rows is None else rows[final]
    merit, scores = entries.merit[chosen], table[item[chosen]]
    return CandidateSet(
        pick(ids, final), [SOURCES[n] for n in labels], merit, pick(anchors, final), scores, at
    )


def _kept_entries(
    ids: list[str], rows: np.ndarray | None, exclude: frozenset[str], index: dict[str, int] | None
) -> np.ndarray:
    """Positions of the entries whose item is not in `exclude`, one entry at a time."""
    del rows, index  # rows follow ids here
    return np.array([n for n, item in enumerate(ids) if item not in exclude], dtype=np.int64)
