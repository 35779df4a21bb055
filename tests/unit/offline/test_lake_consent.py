"""No lake row of an erased or opted-out user: export withholds them, purge removes them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from aiokafka import TopicPartition

import offline.lake as lake_module
from cli.main import main
from offline.consent import Consents, fold
from offline.lake_export import ExportSummary, LakeWriter
from offline.lake_files import parts, read_offsets

CONSENT = fold([("gone", "erase", 20.0), ("quiet", "opt_out", 10.0)])


def _event(offset: int, user: str, ts: float) -> Any:
    value = {
        "event_id": f"e{offset}",
        "user_id": user,
        "item_id": "i",
        "type": "view",
        "timestamp": ts,
        "value": None,
        "context": {},
    }
    return SimpleNamespace(offset=offset, key=user.encode(), value=json.dumps(value).encode())


def _command(offset: int, user: str, command: str, ts: float) -> Any:
    value = {"user_id": user, "command": command, "timestamp": ts}
    return SimpleNamespace(offset=offset, key=user.encode(), value=json.dumps(value).encode())


def test_export_does_not_write_withheld_event_rows(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, CONSENT)
    events, users = TopicPartition("events", 0), TopicPartition("users", 0)
    rows = [("gone", 5.0), ("gone", 20.0), ("gone", 21.0), ("quiet", 9.0), ("quiet", 11.0)]
    for offset, (user, ts) in enumerate(rows):
        writer.add(events, _event(offset, user, ts))
    writer.add(users, _command(0, "gone", "erase", 20.0))
    summary = ExportSummary()
    writer.publish({}, summary)
    kept = pl.read_parquet(parts(tmp_path, "events")[0][0].path)
    assert list(kept.select("user_id", "timestamp").iter_rows()) == [("gone", 21.0), ("quiet", 9.0)]
    assert summary.withheld["events"] == 3 and summary.rows["events"] == 2
    assert summary.rows["users"] == 1 and summary.withheld["users"] == 0
    assert read_offsets(tmp_path)["events"][0] == len(rows)


def test_export_reads_the_users_topic_before_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], Consents | None]] = []

    async def fake(
        servers: list[str],
        lake: Path,
        topics: Sequence[str],
        *,
        progress: bool,
        consent: Consents | None = None,
    ) -> ExportSummary:
        calls.append((list(topics), consent))
        if topics == ["users"]:
            folder = lake / "users"
            folder.mkdir(parents=True)
            pl.DataFrame(
                {"user_id": ["gone"], "command": ["erase"], "timestamp": [20.0]}
            ).write_parquet(folder / "part-0-0-1.parquet")
        summary = ExportSummary()
        for topic in topics:
            summary.rows[topic] += 1
        return summary

    monkeypatch.setattr(lake_module, "export_with_retries", fake)
    summary = asyncio.run(lake_module.export_topics([], tmp_path, ["events", "users", "items"]))
    assert [topics for topics, _ in calls] == [["users"], ["events", "items"]]
    consent = calls[1][1]
    assert consent is not None and consent.erased == {"gone": 20.0}
    assert dict(summary.rows) == {"users": 1, "events": 1, "items": 1}


def _lake(root: Path) -> Path:
    lake = root / "lake"
    writer = LakeWriter(lake)
    events, other = TopicPartition("events", 0), TopicPartition("events", 1)
    for offset, (user, ts) in enumerate([("gone", 5.0), ("kept", 6.0), ("gone", 25.0)]):
        writer.add(events, _event(offset, user, ts))
    writer.add(other, _event(0, "kept", 1.0))
    commands = TopicPartition("users", 0)
    writer.add(commands, _command(0, "gone", "erase", 20.0))
    writer.add(commands, _command(1, "quiet", "opt_out", 1.0))
    writer.publish({}, ExportSummary())
    return lake


def test_purge_rewrites_only_the_files_holding_withheld_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = _lake(tmp_path)
    clean = parts(lake, "events")[1][0].path
    untouched = clean.stat().st_mtime_ns
    assert main(["lake", "purge", "--lake", str(lake)]) == 0
    out = capsys.readouterr().out
    assert out == "events/part-0-0-3.parquet: 1 of 3 rows removed\n"
    rows = pl.read_parquet(lake / "events" / "part-0-0-3.parquet")
    assert list(rows.select("user_id", "timestamp").iter_rows()) == [
        ("kept", 6.0),
        ("gone", 25.0),
    ]
    assert clean.stat().st_mtime_ns == untouched
    assert pl.read_parquet(lake / "users").height == 2
    assert not list((lake / "events").glob(".staging-*"))
    assert main(["lake", "purge", "--lake", str(lake)]) == 0
    assert capsys.readouterr().out == ""


def test_purge_help_explains_the_rewrite(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["lake", "purge", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "renamed over the old one" in text and "opted out" in text
