"""Lake files without a broker: names, healing of covered files, compaction runs, stopping."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from offline.lake_compact import compact_topic, runs
from offline.lake_export import _stop
from offline.lake_files import heal, part_path, parts


def _write(lake: Path, partition: int, first: int, next_offset: int) -> Path:
    path = part_path(lake, "events", partition, first, next_offset)
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = [f"e{partition}-{n}" for n in range(first, next_offset)]
    pq.write_table(pa.table({"event_id": ids}), path)
    return path


def test_heal_removes_files_another_file_covers_and_staging_leftovers(tmp_path: Path) -> None:
    _write(tmp_path, 0, 0, 10)
    _write(tmp_path, 0, 10, 20)
    _write(tmp_path, 0, 0, 20)  # a merge whose sources were never removed
    _write(tmp_path, 1, 0, 5)
    (tmp_path / "events" / ".staging-1-part-1-5-5.parquet.tmp").write_bytes(b"half")
    assert heal(tmp_path, "events") == 3
    found = {p: [(f.first, f.next) for f in fs] for p, fs in parts(tmp_path, "events").items()}
    assert found == {0: [(0, 20)], 1: [(0, 5)]}


def test_runs_group_contiguous_files_up_to_the_target_rows(tmp_path: Path) -> None:
    for first in range(0, 50, 10):
        _write(tmp_path, 0, first, first + 10)
    _write(tmp_path, 0, 60, 70)  # a gap: offsets 50-59 are in no file
    files = parts(tmp_path, "events")[0]
    groups = [[(p.first, p.next) for p in group] for group in runs(files, target_rows=25)]
    assert groups == [[(0, 10), (10, 20)], [(20, 30), (30, 40)]]


def test_compaction_keeps_every_row_once_in_offset_order(tmp_path: Path) -> None:
    for first in range(0, 40, 10):
        _write(tmp_path, 0, first, first + 10)
    assert compact_topic(tmp_path, "events", target_rows=100) == (4, 1)
    [merged] = parts(tmp_path, "events")[0]
    assert (merged.first, merged.next) == (0, 40)
    assert pq.read_table(merged.path)["event_id"].to_pylist() == [f"e0-{n}" for n in range(40)]


class _StopRaises:
    async def stop(self) -> None:
        raise asyncio.CancelledError  # what aiokafka re-raises from a fetch task it cancels


async def test_a_cancellation_raised_inside_the_consumer_stop_is_not_the_exports() -> None:
    await _stop(cast(Any, _StopRaises()))


async def test_cancelling_the_export_itself_still_cancels_it() -> None:
    started = asyncio.Event()

    class _SlowStop:
        async def stop(self) -> None:
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(_stop(cast(Any, _SlowStop())))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
