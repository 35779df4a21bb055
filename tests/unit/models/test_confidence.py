"""Exploration slots follow the history and how confident the ranked page is."""

from __future__ import annotations

import random

import numpy as np
import pytest

from models.confidence import page_confidence, score_spread, typical_spread
from models.context import ServingConfig
from models.page import adaptive_slots


class _Bundle:
    def __init__(self, spread: float | None, candidates: int | None = 3) -> None:
        ranker = {} if spread is None else {"score_spread": spread}
        parameters = {} if candidates is None else {"ranker_candidates": candidates}
        self.manifest = {"metrics": {"ranker": ranker}, "parameters": parameters}


def mean_slots(confidence: float, known: int, draws: int = 4000) -> float:
    rng = random.Random(5)
    return sum(adaptive_slots(2, 20.0, known, 10, rng, confidence) for _ in range(draws)) / draws


def test_a_confident_page_explores_less_and_an_unsure_one_more() -> None:
    assert mean_slots(1.0, 20) == pytest.approx(1.0, abs=0.05)
    assert mean_slots(4.0, 20) == pytest.approx(0.25, abs=0.05)
    assert mean_slots(0.5, 20) == pytest.approx(2.0)
    assert mean_slots(0.01, 0) == 2.0  # never more than the configured slots


def test_spread_is_read_over_as_many_candidates_as_training_lists_held() -> None:
    scores = np.array([1.0, 3.0, 2.0, 100.0])
    bundle = _Bundle(1.0, candidates=3)
    assert score_spread(scores, bundle) == pytest.approx(np.std([1.0, 3.0, 2.0]))  # type: ignore[arg-type]
    assert score_spread(np.empty(0), None) is None


def test_confidence_is_one_without_a_recorded_spread_or_power() -> None:
    assert page_confidence(2.0, _Bundle(None), 2.0) == 1.0  # type: ignore[arg-type]
    assert page_confidence(2.0, _Bundle(1.0), 0.0) == 1.0  # type: ignore[arg-type]
    assert page_confidence(None, _Bundle(1.0), 2.0) == 1.0  # type: ignore[arg-type]
    assert page_confidence(2.0, _Bundle(1.0), 2.0) == pytest.approx(4.0)  # type: ignore[arg-type]
    assert typical_spread(None) is None


def test_by_default_confidence_leads_exploration_and_warm_explorers_go_to_the_bottom() -> None:
    assert ServingConfig().exploration_at_bottom
    assert ServingConfig().exploration_confidence > 0
    assert ServingConfig().with_overrides({"exploration_confidence": 0}).exploration_confidence == 0
