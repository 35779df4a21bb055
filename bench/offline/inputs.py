"""What the offline evaluations share: dataset frames, their options and a sample of users."""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl

from bench.common.command import dataset_files
from offline.evaluate import load_frame


def frames(name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events and items of a public dataset (fetched when missing)."""
    events, items = dataset_files(name)
    return load_frame(events), load_frame(items)


def evaluation_options(
    parser: argparse.ArgumentParser, datasets: str, k_help: str, sample: bool = True
) -> None:
    """--datasets, --k and --seed (and --users, a sample of the evaluated users)."""
    parser.add_argument(
        "--datasets", "--dataset", default=datasets, help=f"comma-separated ({datasets})"
    )
    parser.add_argument("--k", type=int, default=10, help=f"{k_help} (default 10)")
    parser.add_argument("--seed", type=int, default=2020, help="seed (default 2020)")
    if sample:
        parser.add_argument("--users", type=int, default=None, help="evaluate a sample of users")


def sample_users(users: list[str], count: int | None, seed: int) -> list[str]:
    """`count` of the users drawn with `seed`, in their order (all when `count` is None)."""
    if count is None or count >= len(users):
        return users
    picked = np.random.default_rng(seed).choice(len(users), count, replace=False)
    return [users[i] for i in sorted(picked.tolist())]
