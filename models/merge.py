"""The merge's arithmetic over every source list at once: entries end to end, a few numpy calls
per request whatever the number of lists (see `models.candidates.merge_lists`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from models.bundle import rows_of
from models.source_list import SourceList
from models.sources import SOURCE_ORDER, SOURCES


@dataclass(frozen=True, slots=True)
class Entries:
    """Every entry of the lists end to end: merit, rank (the order met in), raw score, source
    order and item key."""

    merit: np.ndarray
    rank: np.ndarray
    raw: np.ndarray
    order: np.ndarray
    key: np.ndarray

    def take(self, rows: np.ndarray) -> Entries:
        """The entries at `rows`."""
        return Entries(
            self.merit[rows], self.rank[rows], self.raw[rows], self.order[rows], self.key[rows]
        )


def joined_rows(lists: Sequence[SourceList]) -> np.ndarray | None:
    """The lists' bundle rows end to end (None unless every list has them)."""
    held = [found.rows for found in lists if found.rows is not None]
    return np.concatenate(held) if len(held) == len(lists) else None


def item_keys(ids: list[str], rows: np.ndarray | None) -> np.ndarray:
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


def kept_entries(
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
    banned = rows_of(item_index, list(exclude))
    size = max(len(item_index), int(rows.max(initial=-1)) + 1)
    barred_row = np.zeros(size + 1, dtype=bool)  # the last slot stays False: row -1 reads it
    barred_row[banned[banned >= 0]] = True
    barred = barred_row[rows]
    outside = np.flatnonzero(rows < 0).tolist()
    if outside:
        barred[outside] = [ids[position] in exclude for position in outside]
    return np.flatnonzero(~barred)


def _per_list(
    kept: Sequence[SourceList], lengths: np.ndarray, weights: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's source weight and source order (lists of one source fill theirs at once)."""
    labels = [found.source for found in kept]
    weight = np.repeat([weights.get(s, 1.0) if s else 1.0 for s in labels], lengths)
    order = np.repeat([SOURCE_ORDER[s] if s else 0 for s in labels], lengths)
    mixed = [n for n, label in enumerate(labels) if label is None]
    if mixed:
        starts = np.cumsum(lengths) - lengths
        for n in mixed:
            part = slice(int(starts[n]), int(starts[n] + lengths[n]))
            weight[part] = [weights.get(s, 1.0) for s in kept[n].sources]
            order[part] = [SOURCE_ORDER[s] for s in kept[n].sources]
    return weight.astype(np.float64), order.astype(np.int64)


def entries_of(kept: Sequence[SourceList], weights: dict[str, float], key: np.ndarray) -> Entries:
    """Every entry's merit: its rank within its list (best score first, ties in list order)
    turned into 1 .. towards 0, times its source's weight; its rank counts on across lists."""
    lengths = np.array([len(found.ids) for found in kept], dtype=np.int64)
    raw = np.concatenate([found.scores for found in kept])
    which = np.repeat(np.arange(len(kept)), lengths)
    by_score = np.lexsort((-raw, which))  # within each list, as a stable argsort of -scores
    rank = np.empty(len(raw), dtype=np.float64)
    rank[by_score] = np.arange(len(raw))
    starts = np.cumsum(lengths) - lengths
    local = rank - starts[which]
    weight, order = _per_list(kept, lengths, weights)
    merit: np.ndarray = (1.0 - local / lengths[which]) * weight
    return Entries(merit, rank, raw, order, key)


def item_numbers(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Each entry's item numbered in key order (as np.unique's inverse) and the number of
    items; by a table over the keys when they are few next to the entries, else by sorting."""
    top = int(key.max(initial=-1)) + 1
    if key.min(initial=0) < 0 or top > 8 * len(key):
        distinct, inverse = np.unique(key, return_inverse=True)
        return inverse, len(distinct)
    present = np.zeros(top, dtype=bool)
    present[key] = True
    number = np.cumsum(present) - 1
    return number[key], int(number[-1]) + 1 if top else 0


def best_scores(item: np.ndarray, order: np.ndarray, raw: np.ndarray, items: int) -> np.ndarray:
    """Per item (row) and source (column), the best raw score of its entries (-inf where they
    are all NaN), NaN where the source did not propose the item."""
    table = np.full((items, len(SOURCES)), np.nan)
    table[item, order] = -np.inf
    np.fmax.at(table, (item, order), raw)
    return table


def by_merit(ids: Callable[[], list[str]], merit: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions sorted by merit (best first), then source order, then item id (`ids` gives
    the items' ids, asked for only when merit and source order tie)."""
    ranked = np.lexsort((order, -merit))
    tied = (np.diff(merit[ranked]) == 0) & (np.diff(order[ranked]) == 0)
    if not tied.any():
        return ranked
    return np.lexsort((np.array(ids()), order, -merit))


def best_first(
    entries: Entries, item: np.ndarray, items: int, ids: Callable[[np.ndarray], list[str]]
) -> np.ndarray:
    """Each item's best entry (highest merit, then earliest source, then first met), items best
    first by that merit, then source order, then item id (`item` numbers each entry's item in
    key order; `ids` gives the ids of some entries, asked for only when merit and source order
    tie)."""
    ordered = np.lexsort((entries.rank, entries.order, -entries.merit))
    first = np.full(items, len(ordered))
    np.minimum.at(first, item[ordered], np.arange(len(ordered)))
    is_first = np.zeros(len(ordered), dtype=bool)
    is_first[first] = True
    best = ordered[is_first]
    merit, order = entries.merit[best], entries.order[best]
    if not ((np.diff(merit) == 0) & (np.diff(order) == 0)).any():
        return best
    by_key = np.empty(items, dtype=np.int64)
    by_key[item[best]] = best
    ranked = by_merit(lambda: ids(by_key), entries.merit[by_key], entries.order[by_key])
    chosen: np.ndarray = by_key[ranked]
    return chosen
