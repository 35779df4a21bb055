"""Consent folded from user commands: erased and opted-out events never reach training."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl
import pytest

from cli.train import _paths
from offline.consent import fold, read_consents
from offline.etl import EtlParams, clean
from streamrec.settings import Settings

COMMANDS = [
    ("erased", "erase", 20.0),
    ("erased", "opt_out", 5.0),
    ("erased", "opt_in", 8.0),
    ("paused", "opt_in", 30.0),
    ("paused", "opt_out", 10.0),
    ("gone", "opt_out", 40.0),
    ("tie", "opt_in", 50.0),
    ("tie", "opt_out", 50.0),
    ("plain", "opt_in", 1.0),
]


def _events() -> pl.DataFrame:
    rows = [
        ("erased", 5.0),
        ("erased", 19.0),
        ("erased", 20.0),
        ("erased", 21.0),
        ("paused", 9.0),
        ("paused", 10.0),
        ("paused", 29.9),
        ("paused", 30.0),
        ("gone", 39.0),
        ("gone", 40.0),
        ("gone", 99.0),
        ("tie", 49.0),
        ("tie", 50.0),
        ("plain", 0.5),
        ("plain", 2.0),
        ("other", 20.0),
    ]
    return pl.DataFrame(
        {
            "event_id": [f"{user}@{ts}" for user, ts in rows],
            "user_id": [user for user, _ in rows],
            "item_id": ["i"] * len(rows),
            "type": ["view"] * len(rows),
            "timestamp": [ts for _, ts in rows],
            "value": [None] * len(rows),
        },
        schema_overrides={"value": pl.Float64},
    )


KEPT = {
    "erased@21.0",
    "paused@9.0",
    "paused@30.0",
    "gone@39.0",
    "tie@49.0",
    "plain@0.5",
    "plain@2.0",
    "other@20.0",
}


def test_erase_drops_everything_up_to_it_and_opt_out_periods_are_dropped() -> None:
    consent = fold(COMMANDS)
    kept = {
        f"{user}@{ts}"
        for user, ts in _events().select("user_id", "timestamp").iter_rows()
        if consent.stores(user, ts)
    }
    assert kept == KEPT
    assert consent.erased == {"erased": 20.0}


def test_fold_ignores_command_order() -> None:
    assert fold(COMMANDS).spans == fold(list(reversed(COMMANDS))).spans


def test_clean_withholds_the_same_events_as_the_row_check() -> None:
    cleaned = clean(_events().lazy(), fold(COMMANDS), EtlParams()).collect()
    assert set(cleaned["event_id"].to_list()) == KEPT


def test_users_lake_folder_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "users"
    folder.mkdir()
    frame = pl.DataFrame(COMMANDS, schema=["user_id", "command", "timestamp"], orient="row")
    frame.head(4).write_parquet(folder / "part-0-0-4.parquet")
    frame.tail(5).write_parquet(folder / "part-1-0-5.parquet")
    consent = read_consents(folder)
    assert consent is not None and consent.spans == fold(COMMANDS).spans
    assert read_consents(None) is None


def test_train_with_an_events_file_still_reads_the_users_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(tmp_path))
    args = argparse.Namespace(events=tmp_path / "e.parquet", items=None, users=None, lake=None)
    assert _paths(args, Settings.from_env())[2] is None
    (tmp_path / "lake" / "users").mkdir(parents=True)
    assert _paths(args, Settings.from_env())[2] == tmp_path / "lake" / "users"
    args.users = tmp_path / "u.parquet"
    assert _paths(args, Settings.from_env())[2] == tmp_path / "u.parquet"
