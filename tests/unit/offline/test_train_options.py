"""`streamrec train` options: one per tuning field, defaults equal to TrainParams."""

from __future__ import annotations

import argparse

import pytest

from cli.train import TUNING, register, shares
from offline.params import TrainParams
from offline.recommenders import ProjectFit, params_for


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["train", "--events", "e.parquet", *argv])


def test_every_tuning_option_defaults_to_the_training_parameter() -> None:
    args, defaults = parse(), TrainParams()
    for name, _, _ in TUNING:
        assert getattr(args, name) == getattr(defaults, name), name
    assert args.label_split == defaults.label_split
    assert args.candidate_shares == defaults.candidate_shares
    assert args.retriever == defaults.retriever


def test_options_reach_the_parameters() -> None:
    args = parse("--similar-top", "200", "--label-split", "time", "--candidate-shares", "als=1")
    assert (args.similar_top, args.label_split) == (200, "time")
    assert args.candidate_shares == {"als": 1.0}


def test_candidate_shares_name_known_sources() -> None:
    assert shares("als=0.5,ease=0.25") == {"als": 0.5, "ease": 0.25}
    assert shares("default") is None
    with pytest.raises(argparse.ArgumentTypeError, match="unknown source"):
        shares("magic=1")
    with pytest.raises(argparse.ArgumentTypeError, match="source=share"):
        shares("als=lots")


def test_each_protocol_trains_the_ranker_on_the_question_it_tests() -> None:
    assert params_for("recbole").label_split == "random"
    assert params_for("temporal").label_split == "time"
    assert params_for("served").label_split == TrainParams().label_split == "last"
    assert ProjectFit(params_for("recbole")).params.label_split == "random"
