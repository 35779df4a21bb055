"""Lake purge: rewrite the files that hold rows consent withholds (erased or opted-out users)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from offline.consent import ROW, Consents, read_consents
from offline.lake_files import heal, locked, parts, replace_atomically
from streamrec.topics import EVENTS, IMPRESSIONS, USERS

PURGED_TOPICS: tuple[str, ...] = (EVENTS, IMPRESSIONS)


@dataclass(frozen=True)
class Rewrite:
    """One rewritten lake file: its rows before and the rows removed."""

    path: Path
    rows: int
    removed: int


def purge_file(path: Path, consent: Consents) -> Rewrite | None:
    """Rewrite one file without its withheld rows (staging file, then rename); None if clean."""
    table = pq.read_table(path)
    if table.num_rows == 0 or not consent.spans:
        return None
    keys = pl.from_arrow(table.select(["user_id", "timestamp"]))
    assert isinstance(keys, pl.DataFrame)
    withheld = consent.withheld_rows(keys.lazy()).collect()[ROW].to_numpy()
    if len(withheld) == 0:
        return None
    mask = np.ones(table.num_rows, dtype=bool)
    mask[withheld] = False
    kept = table.filter(pa.array(mask))
    replace_atomically(path, lambda staging: pq.write_table(kept, staging))
    return Rewrite(path, table.num_rows, len(withheld))


def purge(lake: Path, topics: Sequence[str] = PURGED_TOPICS) -> list[Rewrite]:
    """Rewrite every file of `topics` holding rows withheld by the lake's users commands."""
    with locked(lake):
        consent = read_consents(lake / USERS) if (lake / USERS).is_dir() else None
        if consent is None:
            return []
        rewrites: list[Rewrite] = []
        for topic in topics:
            heal(lake, topic)
            for files in parts(lake, topic).values():
                for part in files:
                    rewrite = purge_file(part.path, consent)
                    if rewrite is not None:
                        rewrites.append(rewrite)
        return rewrites
