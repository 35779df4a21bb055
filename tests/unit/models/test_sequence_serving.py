"""The sequence model in the serving steps: its candidates, features and reasons."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from models.bundle import ModelBundle
from models.features import COLUMN, build_features
from models.fold import fold_user, newest_rows, sequence_anchor
from models.sequence import SequenceModel
from models.serving import PageQuery, ServingConfig, hydrate, recommend
from models.types import Candidate, HistoryItem, ItemMeta, ItemSignals, UserView
from offline.synthetic import blocks
from offline.train import FittedModel, TrainParams, fit

PARAMS = TrainParams(factors=4, iterations=3, retriever="exact", ranker=False)
NOW = 100.0
FIRST, NEXT = "g0-i1", "g1-i5"
"""After FIRST comes NEXT, an item of another group that nothing else points to."""


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    events, items = blocks(groups=2, users_per_group=10, items_per_group=8)
    return fit(events, items, PARAMS, progress=False)


def _with_transition(bundle: ModelBundle) -> ModelBundle:
    n = len(bundle.item_names)
    transition = np.zeros((n, n), dtype=np.float32)
    transition[bundle.item_index[FIRST], bundle.item_index[NEXT]] = 1.0
    model = SequenceModel(transition, np.array([1.0, 0.5], dtype=np.float32))
    return replace(bundle, sequence=model)


def no_signals(item_id: str) -> ItemSignals | None:
    return None


def _user(*events: tuple[str, str, float | None]) -> UserView:
    history = [
        HistoryItem(item, kind, float(t), value) for t, (item, kind, value) in enumerate(events)
    ]
    return UserView("reader", history=history)


def _page(bundle: ModelBundle, user: UserView, meta: dict[str, ItemMeta]) -> dict[str, str]:
    ctx = hydrate(
        bundle,
        user,
        no_signals,
        meta.get,
        now=NOW,
        rng=random.Random(0),
        query=PageQuery(count=10),
        config=ServingConfig(exploration_slots=0, max_category_share=1.0),
        catalog=meta.values,
    )
    return {item.item_id: item.reason.text for item in recommend(ctx) if item.source == "sequence"}


def test_the_newest_rows_come_newest_first_and_ties_keep_arrival_order(
    fitted: FittedModel,
) -> None:
    bundle = fitted.bundle
    user = UserView(
        "u", history=[HistoryItem("g0-i0", "view", 1.0), HistoryItem(FIRST, "view", 1.0)]
    )
    rows = newest_rows(bundle, user).tolist()
    assert rows == [bundle.item_index[FIRST], bundle.item_index["g0-i0"]]


def test_the_item_that_follows_the_newest_one_is_a_candidate_anchored_on_it(
    fitted: FittedModel,
) -> None:
    bundle = _with_transition(fitted.bundle)
    user = _user(("g0-i2", "view", None), (FIRST, "rating", 5.0))
    served = _page(bundle, user, fitted.meta)
    assert NEXT in served
    assert served[NEXT] == f"Because you rated {fitted.meta[FIRST].title}"


def test_the_sequence_score_is_a_feature_of_every_candidate(fitted: FittedModel) -> None:
    bundle = _with_transition(fitted.bundle)
    user = _user((FIRST, "view", None))
    fold = fold_user(bundle, user, NOW)
    assert fold.sequence is not None
    ids = [NEXT, "g0-i3"]
    rows, _ = build_features(
        bundle,
        user,
        [Candidate(item, "als", 1.0) for item in ids],
        no_signals,
        fitted.meta.get,
        NOW,
        fold=fold,
    )
    assert rows[:, COLUMN["sequence_score"]].tolist() == [1.0, 0.0]
    assert rows[:, COLUMN["sequence_rank"]].tolist() == [0.0, 1.0]


def test_a_disliked_item_never_anchors_a_sequence_reason(fitted: FittedModel) -> None:
    bundle = _with_transition(fitted.bundle)
    user = _user((FIRST, "rating", 1.0))
    fold = fold_user(bundle, user, NOW)
    assert fold.sequence is not None
    row = bundle.item_index[NEXT]
    assert sequence_anchor(bundle, fold.sequence, row, frozenset()) == FIRST
    assert sequence_anchor(bundle, fold.sequence, row, frozenset({FIRST})) is None
    served = _page(bundle, user, fitted.meta)
    assert all(fitted.meta[FIRST].title not in text for text in served.values())
    # Nor does a lesser contributor stand in for it: the reason stays general.
    liked = _user(("g0-i2", "rating", 5.0), (FIRST, "rating", 1.0))
    served = _page(bundle, liked, fitted.meta)
    assert served[NEXT] == "Often picked next after your recent items"


def test_without_a_sequence_model_the_fold_has_no_sequence_scores(fitted: FittedModel) -> None:
    bundle = replace(fitted.bundle, sequence=None)
    assert fold_user(bundle, _user((FIRST, "view", None)), NOW).sequence is None
    assert fold_user(_with_transition(bundle), UserView("empty"), NOW).sequence is None
