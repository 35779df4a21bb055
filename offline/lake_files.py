"""The lake's files: one Parquet file per topic partition and offset range, the offsets file,
and the lock that keeps exports and compactions of one lake from running at once.

Layout: `<lake>/<topic>/part-<partition>-<first offset>-<next offset>.parquet` holds the rows
of records `[first, next)` of one partition. A file whose range lies inside another file's
range of the same partition is a leftover of an interrupted export or compaction: `heal`
removes it, so a reader never sees a record twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

OFFSETS_FILE = "_offsets.json"
LOCK_FILE = ".lock"
PART = re.compile(r"part-(\d+)-(\d+)-(\d+)\.parquet")
STAGING = ".staging-"

Offsets = dict[str, dict[int, int]]


@dataclass(frozen=True, order=True)
class Part:
    """One lake file: the records [first, next) of one partition."""

    partition: int
    first: int
    next: int
    path: Path = field(compare=False)

    def covers(self, other: Part) -> bool:
        """Whether `other` holds only records this file holds too."""
        return self.first <= other.first and other.next <= self.next and self != other

    @property
    def rows(self) -> int:
        """Rows in the file (from its footer)."""
        return int(pq.ParquetFile(self.path).metadata.num_rows)


def part_path(lake: Path, topic: str, partition: int, first: int, next_offset: int) -> Path:
    """Where the rows of records [first, next) of one partition go."""
    return lake / topic / f"part-{partition}-{first}-{next_offset}.parquet"


def parts(lake: Path, topic: str) -> dict[int, list[Part]]:
    """The topic's files per partition, in offset order."""
    found: dict[int, list[Part]] = {}
    folder = lake / topic
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = PART.fullmatch(path.name)
        if match:
            partition, first, next_offset = (int(group) for group in match.groups())
            found.setdefault(partition, []).append(Part(partition, first, next_offset, path))
    return {partition: sorted(files) for partition, files in sorted(found.items())}


def heal(lake: Path, topic: str) -> int:
    """Remove staging leftovers and files covered by another file; returns files removed."""
    removed = 0
    folder = lake / topic
    if folder.is_dir():
        for leftover in folder.glob(f"{STAGING}*"):
            leftover.unlink(missing_ok=True)
            removed += 1
    for files in parts(lake, topic).values():
        for part in files:
            if any(other.covers(part) for other in files):
                part.path.unlink(missing_ok=True)
                removed += 1
    return removed


def staging_path(final: Path) -> Path:
    """A hidden name beside `final` to write to before the rename that publishes it."""
    return final.with_name(f"{STAGING}{os.getpid()}-{final.name}.tmp")


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a staging file, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(path)
    write(staging)
    os.replace(staging, path)


def read_offsets(lake: Path) -> Offsets:
    """The next offset to export per topic and partition (empty before the first export)."""
    path = lake / OFFSETS_FILE
    if not path.exists():
        return {}
    raw: dict[str, dict[str, int]] = json.loads(path.read_text())
    return {topic: {int(p): int(o) for p, o in parts.items()} for topic, parts in raw.items()}


def write_offsets(lake: Path, offsets: Offsets) -> None:
    """Replace `_offsets.json` atomically."""
    text = json.dumps({t: {str(p): o for p, o in sorted(ps.items())} for t, ps in offsets.items()})
    replace_atomically(lake / OFFSETS_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@contextmanager
def locked(lake: Path) -> Iterator[None]:
    """Hold the lake's lock (an export or a compaction waits for the one running)."""
    lake.mkdir(parents=True, exist_ok=True)
    with (lake / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
