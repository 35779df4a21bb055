"""The Parquet lake archived from the topics: export, compaction and the files they keep.

`<lake>/<topic>/part-<partition>-<first offset>-<next offset>.parquet` (see `lake_files`):
an export adds at most one file per partition, compaction merges small files, a purge
rewrites the files holding withheld rows, and `<lake>/_offsets.json` holds the next offset
to export per topic and partition. Re-running an export after a crash never duplicates rows.
An export writes the `users` topic first, then the other topics without the `events` and
`impressions` rows that consent withholds (see `consent`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from offline.consent import read_consents
from offline.lake_compact import TARGET_ROWS, CompactSummary, compact_topic
from offline.lake_export import ExportSummary, export_with_retries
from offline.lake_files import OFFSETS_FILE, heal, locked, parts, read_offsets
from offline.lake_rows import SCHEMAS, TOPICS, flatten
from streamrec.topics import USERS

AUTO_COMPACT_FILES = 8
"""An export compacts a partition once it holds this many files."""

__all__ = [
    "OFFSETS_FILE",
    "SCHEMAS",
    "TOPICS",
    "CompactSummary",
    "ExportSummary",
    "compact",
    "export",
    "export_topics",
    "file_count",
    "flatten",
    "read_offsets",
]


async def export_topics(
    bootstrap_servers: list[str],
    lake: Path,
    topics: Sequence[str] = TOPICS,
    *,
    progress: bool = True,
    compact_at: int = AUTO_COMPACT_FILES,
) -> ExportSummary:
    """Export the records after the stored offsets of `topics`; stops when caught up."""
    with locked(lake):
        for topic in topics:
            heal(lake, topic)
        summary = ExportSummary()
        if USERS in topics:
            summary = await export_with_retries(bootstrap_servers, lake, [USERS], progress=progress)
        rest = [topic for topic in topics if topic != USERS]
        if rest:
            consent = read_consents(lake / USERS) if (lake / USERS).is_dir() else None
            summary.absorb(
                await export_with_retries(
                    bootstrap_servers, lake, rest, progress=progress, consent=consent
                )
            )
        for topic in topics:
            merged, written = compact_topic(lake, topic, TARGET_ROWS, min_files=compact_at)
            summary.compacted += merged - written
    return summary


def export(
    bootstrap_servers: list[str],
    lake: Path,
    topics: Sequence[str] = TOPICS,
    *,
    progress: bool = True,
) -> ExportSummary:
    """Blocking wrapper of `export_topics`."""
    return asyncio.run(export_topics(bootstrap_servers, lake, topics, progress=progress))


def compact(
    lake: Path, topics: Sequence[str] = TOPICS, target_rows: int = TARGET_ROWS
) -> CompactSummary:
    """Merge every partition's consecutive small files into files of up to `target_rows`."""
    summary = CompactSummary()
    with locked(lake):
        for topic in topics:
            merged, written = compact_topic(lake, topic, target_rows)
            summary.merged[topic], summary.written[topic] = merged, written
    return summary


def file_count(lake: Path, topic: str) -> int:
    """Lake files of one topic."""
    return sum(len(files) for files in parts(lake, topic).values())
