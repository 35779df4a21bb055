"""Lake compaction: merge a partition's consecutive small files into files of about
TARGET_ROWS rows, so the number of files follows the number of events, not of exports.

A merged file is published (renamed) before its sources are removed; a crash in between
leaves sources that the merged file's range covers, which `heal` removes next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from offline.lake_files import Part, heal, part_path, parts, replace_atomically

TARGET_ROWS = 1_000_000
"""Rows a compacted file holds at most (a single larger export file is left as it is)."""


@dataclass
class CompactSummary:
    """Files merged away and written per topic."""

    merged: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)

    @property
    def removed(self) -> int:
        """Files fewer than before."""
        return sum(self.merged.values()) - sum(self.written.values())


def runs(files: Sequence[Part], target_rows: int) -> list[list[Part]]:
    """Consecutive, contiguous files grouped while their rows stay within `target_rows`."""
    groups: list[list[Part]] = []
    current: list[Part] = []
    total = 0
    for part in files:
        rows = part.rows
        contiguous = bool(current) and current[-1].next == part.first
        if current and (not contiguous or total + rows > target_rows):
            groups.append(current)
            current, total = [], 0
        current.append(part)
        total += rows
    if current:
        groups.append(current)
    return [group for group in groups if len(group) > 1]


def merge(lake: Path, topic: str, group: Sequence[Part]) -> Path:
    """Write one file holding the group's rows in offset order, then remove the group."""
    first, last = group[0], group[-1]
    target = part_path(lake, topic, first.partition, first.first, last.next)
    table = pa.concat_tables([pq.read_table(part.path) for part in group])
    replace_atomically(target, lambda staging: pq.write_table(table, staging))
    for part in group:
        if part.path != target:
            part.path.unlink(missing_ok=True)
    return target


def compact_topic(
    lake: Path, topic: str, target_rows: int = TARGET_ROWS, min_files: int = 2
) -> tuple[int, int]:
    """Merge the small files of every partition holding at least `min_files` files; returns
    (files merged away, files written)."""
    heal(lake, topic)
    merged = written = 0
    for files in parts(lake, topic).values():
        if len(files) < min_files:
            continue
        for group in runs(files, target_rows):
            merge(lake, topic, group)
            merged += len(group)
            written += 1
    return merged, written
