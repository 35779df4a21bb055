"""The consumption policy: what never comes back, what may come back with a reason."""

from __future__ import annotations

import pytest

from models.consumption import ConsumptionPolicy, resolve
from models.types import UserView
from streamrec.errors import RegistryError
from streamrec.interactions import ADD_TO_CART, CLICK, DISLIKED, PURCHASE, RATING, VIEW
from tests.unit.models.reference import split_consumed

INTERACTED = {
    "seen": VIEW,
    "clicked": VIEW | CLICK,
    "carted": CLICK | ADD_TO_CART,
    "bought": VIEW | PURCHASE,
    "rated": RATING,
    "hated": VIEW | RATING | DISLIKED,
}
USER = UserView("u1", interacted=INTERACTED)


def test_by_default_rated_and_bought_items_never_come_back_and_viewed_ones_may() -> None:
    never, revisit = split_consumed(USER, ConsumptionPolicy())

    assert never == {"bought", "rated", "hated"}
    assert revisit == {"seen": "view", "clicked": "click", "carted": "add_to_cart"}


def test_with_rebuy_bought_items_may_come_back_as_purchases() -> None:
    never, revisit = split_consumed(USER, ConsumptionPolicy(rebuy=True))

    assert never == {"rated", "hated"}
    assert revisit["bought"] == "purchase"


def test_a_disliked_item_never_comes_back_whatever_consumes() -> None:
    policy = ConsumptionPolicy(consumed_types=frozenset({"purchase"}), rebuy=True)

    assert policy.never(INTERACTED) == {"hated"}
    assert "rated" not in policy.revisit(INTERACTED)


def test_unknown_interaction_types_are_refused() -> None:
    with pytest.raises(ValueError, match="watch"):
        ConsumptionPolicy(consumed_types=frozenset({"watch"}))


def test_settings_win_over_the_manifest_which_wins_over_the_default() -> None:
    manifest = {"policy": {"consumed_types": ["purchase"], "rebuy": True, "repeat_rate": 0.4}}

    assert resolve((), None, None) == ConsumptionPolicy()
    assert resolve((), None, {}) == ConsumptionPolicy()
    assert resolve((), None, manifest) == ConsumptionPolicy(frozenset({"purchase"}), True)
    assert resolve(("rating",), False, manifest) == ConsumptionPolicy(frozenset({"rating"}))
    assert resolve((), False, manifest).consumed_types == {"purchase"}


def test_a_malformed_manifest_policy_is_a_registry_error() -> None:
    with pytest.raises(RegistryError, match="manifest policy"):
        resolve((), None, {"policy": {"consumed_types": ["watch"]}})


def test_a_policy_round_trips_through_its_manifest_form() -> None:
    policy = ConsumptionPolicy(frozenset({"purchase"}), True, frozenset({"view"}))

    assert resolve((), None, {"policy": policy.to_json()}) == policy
