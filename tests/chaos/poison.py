"""Poison records for every input topic: random bytes, wrong schemas, 1 MB records, wrong keys.

Each record must reach `dead-letters` with its reason: none of them may be applied.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

MEGABYTE = 1024 * 1024
INPUT_TOPICS = ("events", "items", "users", "impressions")
T0 = 1_700_000_000
BAD_IDS: tuple[Any, ...] = (
    None,
    "",
    "   ",
    1.5,
    True,
    [1],
    {"x": 1},
    "a\ud800",
    "a\x00b",
    "x" * 300,
)
BAD_TIMES: tuple[Any, ...] = ("yesterday", [T0], {"t": T0}, True, -5, 1e300, "")
BAD_TEXT: tuple[Any, ...] = (12, ["x"], {"x": 1}, "a\x00b", "a\ud800", "t" * 2000)
BAD_VERSIONS: tuple[Any, ...] = (2, "1", True, None)
# Fields of each topic's record and values each must refuse.
INVALID: dict[str, dict[str, tuple[Any, ...]]] = {
    "events": {
        "event_id": BAD_IDS[2:],
        "user_id": BAD_IDS,
        "item_id": BAD_IDS,
        "type": (None, "like", 3, ["view"]),
        "timestamp": (None, *BAD_TIMES),
        "value": ("much", float("nan"), [1]),
        "context": ("ctx", [1], {"bad_key": "x"}, {"device": 5}),
        "schema_version": BAD_VERSIONS[:3],
    },
    "items": {
        "item_id": BAD_IDS,
        "title": BAD_TEXT,
        "category": BAD_TEXT,
        "tags": (5, [1, 2], {"a": 1}, ["a\x00"]),
        "price": (-1, "cheap", float("inf")),
        "in_stock": ("maybe", 2, [True]),
        "created_at": BAD_TIMES[:-1],
        "schema_version": BAD_VERSIONS[:3],
    },
    "users": {
        "user_id": BAD_IDS,
        "command": (None, "delete", 1, ["erase"]),
        "timestamp": BAD_TIMES[:-1],
        "schema_version": BAD_VERSIONS[:3],
    },
    "impressions": {
        "request_id": BAD_IDS,
        "user_id": BAD_IDS,
        "model_version": (None, 5, ["v"], "a\x00"),
        "timestamp": (None, *BAD_TIMES),
        "items": (
            None,
            "i1",
            {"item_id": "i1"},
            [1],
            [{"item_id": "i1"}],
            [{"item_id": None, "position": 0, "source": "s"}],
            [{"item_id": "i1", "position": -1, "source": "s"}],
            [{"item_id": "i1", "position": "0", "source": "s"}],
            [{"item_id": "i1", "position": 0, "source": 7}],
            [{"item_id": "a\ud800", "position": 0, "source": "s"}],
            [{"item_id": "i1", "position": 0, "source": "s", "score": "high"}],
        ),
        "experiments": ("e", [1], [{"experiment_id": 1, "variant": "a"}], [{"variant": "a"}]),
        "shadow": ("s", [{"experiment_id": "e", "variant": "a", "model_version": "v"}]),
        "schema_version": BAD_VERSIONS[:3],
    },
}


@dataclass(frozen=True)
class Poison:
    """One record to publish: its topic, key and value, and what makes it poison."""

    topic: str
    key: bytes | None
    value: bytes | None
    kind: str


def valid_record(topic: str, run: str, n: int) -> tuple[str, dict[str, Any]]:
    """A record `topic` accepts and the id it is keyed by."""
    user, item = f"{run}-u{n}", f"{run}-i{n}"
    if topic == "events":
        event = {"event_id": f"{run}-e{n}", "user_id": user, "item_id": item, "type": "view"}
        return user, {**event, "timestamp": T0 + n}
    if topic == "items":
        return item, {"item_id": item, "title": f"Film {n}", "category": "Drama"}
    if topic == "users":
        return user, {"user_id": user, "command": "opt_in", "timestamp": T0 + n}
    served = [{"item_id": item, "position": 0, "source": "popular", "score": 1.0}]
    impression = {"request_id": f"{run}-r{n}", "user_id": user, "model_version": "none"}
    return user, {**impression, "timestamp": T0 + n, "items": served}


def wrong_schemas(topic: str, run: str, n: int) -> list[Any]:
    """JSON values that are no record of `topic`: other shapes, records of other topics, each
    field with values it must refuse (null standing for a missing field)."""
    good = valid_record(topic, run, n)[1]
    others = [valid_record(other, run, n)[1] for other in INPUT_TOPICS if other != topic]
    broken: list[Any] = [None, 7, "text", [good], {"marker": run}, *others]
    for field, values in INVALID[topic].items():
        broken += [{**good, field: value} for value in values]
    return broken


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def poison_for(topic: str, run: str, rng: random.Random) -> list[Poison]:
    """Every kind of poison for one topic; keys carry `run` where they can."""
    key, good = valid_record(topic, run, 0)
    records = [
        Poison(topic, f"{run}-k{n}".encode(), rng.randbytes(size), "random bytes")
        for n, size in enumerate((1, 2, 7, 64, 1000, 20_000) * 3)
    ]
    records += [
        Poison(topic, key.encode(), _dumps(value), f"wrong schema {n}")
        for n, value in enumerate(wrong_schemas(topic, run, 0))
    ]
    if topic != "items":  # where a missing value deletes the item
        records.append(Poison(topic, key.encode(), None, "empty value"))
    padded = {**good, "padding": "x" * MEGABYTE}
    records.append(Poison(topic, key.encode(), _dumps(padded), "1 MB record"))
    records.append(Poison(topic, key.encode(), rng.randbytes(MEGABYTE), "1 MB random bytes"))
    return records + wrong_keys(topic, run, rng)


def wrong_keys(topic: str, run: str, rng: random.Random) -> list[Poison]:
    """Valid records under a missing key, an undecodable key and another record's id (events
    keyed wrongly are re-routed to their user instead: see `rerouted_events`)."""
    if topic == "events":
        return []
    keys = (None, b"\xff\xfe" + rng.randbytes(6), f"{run}-other".encode(), b"")
    return [
        Poison(topic, key, _dumps(valid_record(topic, run, 10 + n)[1]), f"wrong key {n}")
        for n, key in enumerate(keys)
    ]


def rerouted_events(run: str, rng: random.Random) -> list[Poison]:
    """Valid events keyed wrongly: each must be applied once, to the user it names."""
    keys = (None, b"\xff\xfe" + rng.randbytes(6), f"{run}-other".encode(), b"")
    return [
        Poison("events", key, _dumps(valid_record("events", run, 10 + n)[1]), f"wrong key {n}")
        for n, key in enumerate(keys)
    ]


FOLLOWED_TOPICS = ("experiments", "model-updates")
"""Read whole by every worker (no group), so poison there is logged and skipped, not
dead-lettered once per worker."""


def followed_poison(topic: str, run: str, rng: random.Random) -> list[Poison]:
    """Random bytes, wrong schemas, a 1 MB record and undecodable keys for a followed topic."""
    key = f"{run}-x".encode()
    values = [None, 7, "text", {"marker": run}, valid_record("events", run, 0)[1]]
    records = [Poison(topic, key, rng.randbytes(size), "random bytes") for size in (1, 64, 5000)]
    records += [Poison(topic, key, _dumps(value), "wrong schema") for value in values]
    records.append(Poison(topic, key, rng.randbytes(MEGABYTE), "1 MB random bytes"))
    undecodable = b"\xff\xfe" + rng.randbytes(6)
    records += [Poison(topic, k, _dumps({"marker": run}), "wrong key") for k in (None, undecodable)]
    return records
