"""Candidates as columns: the array merge, snapshot features and lazy boosting agree with the
object-at-a-time definitions they replace."""

from __future__ import annotations

import math
import random

import numpy as np

from models.candidates import SOURCES, CandidateSet, merge
from models.features import build_features, item_columns
from models.rules import Boosts, boost, boosted_rows
from models.types import Candidate, HistoryItem, ItemMeta, ItemSignals, UserView

NOW = 1_700_000_000.0


def _catalog(count: int) -> tuple[dict[str, ItemMeta], dict[str, ItemSignals]]:
    rng = random.Random(3)
    meta = {
        f"i{n}": ItemMeta(
            f"i{n}",
            f"Item {n}",
            rng.choice(("a", "b", "c")),
            price=rng.choice((None, 9.5)),
            in_stock=rng.random() > 0.1,
            created_at=rng.choice((None, NOW - rng.random() * 1e6)),
        )
        for n in range(count)
    }
    signals = {
        item_id: ItemSignals(
            item_id,
            views_24h=rng.randrange(50),
            events_all=rng.randrange(500),
            trending=rng.random(),
            arm_alpha=1 + rng.randrange(9),
            impressions=float(rng.randrange(40)),
            last_event_at=rng.choice((None, NOW - 3600.0)),
        )
        for item_id in list(meta)[::2]
    }
    return meta, signals


def _candidates(count: int) -> list[Candidate]:
    rng = random.Random(5)
    return [
        Candidate(
            f"i{n}",
            rng.choice(SOURCES),
            rng.random(),
            rng.choice((None, "i1", "i2")),
            {source: rng.random() for source in rng.sample(SOURCES, rng.randint(1, 3))},
        )
        for n in range(count)
    ]


def test_candidate_set_round_trips_candidate_objects() -> None:
    candidates = _candidates(40)
    assert CandidateSet.of(candidates).candidates() == candidates


def test_merge_breaks_equal_merits_by_source_order_then_item_id() -> None:
    weights = dict.fromkeys(SOURCES, 1.0)
    merged = merge(
        [
            [Candidate("b", "als", 2.0), Candidate("z", "als", 1.0)],
            [Candidate("a", "next", 5.0), Candidate("c", "next", 1.0)],
            [Candidate("a2", "next", 3.0), Candidate("y", "next", 0.0)],
        ],
        source_weights=weights,
    )
    assert [c.item_id for c in merged] == ["a", "a2", "b", "c", "y", "z"]


def test_features_from_a_swept_snapshot_equal_features_from_lookups() -> None:
    meta, signals = _catalog(60)
    user = UserView(
        "u",
        history=(HistoryItem("i1", "view", NOW - 100.0), HistoryItem("i2", "click", NOW - 50.0)),
        category_affinity={"a": 2.0, "b": 1.0},
    )
    candidates = [*_candidates(40), Candidate("unknown", "als", 0.5)]
    snapshot = item_columns(list(meta), list(meta.values()), [signals.get(i) for i in meta])
    looked_up, names = build_features(None, user, candidates, signals.get, meta.get, NOW)
    swept, _ = build_features(None, user, candidates, signals.get, meta.get, NOW, items=snapshot)
    assert np.array_equal(looked_up, swept)
    assert looked_up.shape == (41, len(names))
    price = names.index("price")
    assert looked_up[-1, price] == -1.0 and looked_up[:, price].max() == 9.5


def test_column_boosting_orders_and_scores_as_boosting_every_candidate() -> None:
    meta, signals = _catalog(200)
    rng = np.random.default_rng(1)
    scores = np.sort(rng.random(200))[::-1]
    ranked = [Candidate(f"i{n}", "als", float(s)) for n, s in enumerate(scores)]
    boosts = Boosts(freshness=0.3, freshness_half_life_s=5e5, low_exposure=0.2)
    created = np.array(
        [np.nan if (m := meta[c.item_id]).created_at is None else m.created_at for c in ranked]
    )
    shown = np.array([s.impressions if (s := signals.get(c.item_id)) else 0.0 for c in ranked])
    order, boosted = boosted_rows(scores, created, shown, NOW, boosts)
    eager = boost(ranked, signals.get, meta.get, NOW, boosts)
    assert [ranked[row].item_id for row in order.tolist()] == [c.item_id for c in eager]
    assert np.allclose(boosted, [c.score for c in eager], rtol=0, atol=1e-12)


def test_column_boosting_reads_missing_and_infinite_times_as_the_nan_to_num_formula() -> None:
    rng = np.random.default_rng(2)
    scores = rng.random(64)
    created = NOW - rng.random(64) * 1e6
    created[::5], created[1::9], created[2::11] = np.nan, np.inf, -np.inf
    shown = rng.integers(0, 40, 64).astype(np.float64)
    boosts = Boosts(freshness=0.3, freshness_half_life_s=5e5, low_exposure=0.2)
    order, boosted = boosted_rows(scores, created, shown, NOW, boosts)
    normal = (scores - scores.min()) / (scores.max() - scores.min())
    age = np.maximum(0.0, NOW - np.nan_to_num(created, nan=NOW))
    fresh = boosts.freshness * np.exp(-math.log(2) * age / boosts.freshness_half_life_s)
    lift = np.where(np.isnan(created), 0.0, fresh)
    lift += np.where(shown < boosts.low_exposure_impressions, boosts.low_exposure, 0.0)
    expected = normal + lift
    np.testing.assert_array_equal(order, np.argsort(-expected, kind="stable"))
    np.testing.assert_array_equal(boosted, expected[order])
