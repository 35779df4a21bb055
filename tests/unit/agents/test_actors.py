"""The actors through the transaction API on in-memory tables: decode → fold → put/emit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import orjson

from agents.experiments import apply_impressions, impression_signal_id
from agents.invalidation import Invalidator
from agents.items import ItemActors
from agents.runtime.context import partition_for
from agents.runtime.memory import MemoryOutlet, MemoryStore, memory_runtime
from agents.runtime.tables import CATALOG, ITEM_STATE, USER_CONSENT, USER_STATE, VARIANT_TALLIES
from agents.runtime.transaction import Runtime
from agents.tallies import Tallies
from agents.users import UserActors
from api.experiment_log import memory_log
from schemas.records import UserCommand
from streamrec import topics
from streamrec.settings import Settings
from tables.user import UserState

PARTITIONS = 4
NOW = time.time()


@dataclass(frozen=True)
class Message:
    """Where a delivered record came from."""

    topic: str
    partition: int
    offset: int
    timestamp: float = NOW


@dataclass(frozen=True)
class Delivered:
    """A delivered record as the actors read it: key, value and message."""

    key: str | None
    value: bytes | None
    message: Message


def event(user: str, item: str, kind: str = "view", event_id: str = "", **extra: Any) -> Delivered:
    """An interaction as the events topic delivers it, in its user's partition."""
    body = {"user_id": user, "item_id": item, "type": kind, "timestamp": NOW, **extra}
    if event_id:
        body["event_id"] = event_id
    message = Message(topics.EVENTS, partition_for(user, PARTITIONS), 0)
    return Delivered(user, orjson.dumps(body), message)


class World:
    """User, item and tally actors over one in-memory runtime."""

    def __init__(self) -> None:
        self.runtime, self.stores, self.outlet = memory_runtime(
            [USER_STATE, USER_CONSENT, ITEM_STATE, CATALOG, VARIANT_TALLIES]
        )
        self.settings = Settings(partitions=PARTITIONS)
        self.tallies = Tallies(
            self.runtime, PARTITIONS, memory_log(), lambda: list(range(PARTITIONS))
        )
        self.catalog: dict[str, dict[str, Any]] = {}
        self.users = UserActors(
            self.settings, self.runtime, self.tallies, Invalidator(None, 1.0), self.catalog.get
        )
        self.items = ItemActors(self.runtime, PARTITIONS, 100)

    def apply(self, *batch: Delivered) -> int:
        return asyncio.run(self.users.apply_user_batch(list(batch)))  # type: ignore[arg-type]

    def forward_signals(self) -> int:
        """Fold every item-signal message sent so far into the item states."""
        messages = [
            Delivered(None, r.value, Message(r.topic, r.partition or 0, n))
            for n, r in enumerate(self.outlet.sent)
            if r.topic == topics.ITEM_SIGNALS
        ]
        self.outlet.sent = [r for r in self.outlet.sent if r.topic != topics.ITEM_SIGNALS]
        return asyncio.run(self.items.apply_item_batch(messages))  # type: ignore[arg-type]


def test_a_batch_folds_into_user_state_once_and_forwards_one_signal_per_event() -> None:
    world = World()
    assert world.apply(event("u1", "i1", event_id="e1"), event("u1", "i2", event_id="e2")) == 2
    state = UserState.from_json(world.stores[USER_STATE].value("u1"))
    assert [entry.item_id for entry in state.history] == ["i1", "i2"]
    rows = [row for batch in world.outlet.values(topics.ITEM_SIGNALS) for row in batch]
    assert sorted(row[0] for row in rows) == ["i1", "i2"]


def test_a_replayed_event_changes_nothing_and_sends_nothing() -> None:
    world = World()
    world.apply(event("u1", "i1", event_id="e1"))
    before = world.stores[USER_STATE].value("u1")
    world.outlet.sent.clear()
    assert world.apply(event("u1", "i1", event_id="e1")) == 0
    assert world.stores[USER_STATE].value("u1") == before
    assert world.outlet.sent == []


def test_every_write_reaches_the_changelog_of_its_own_partition() -> None:
    world = World()
    world.apply(*(event(f"u{n}", "i1", event_id=f"e{n}") for n in range(20)))
    store: MemoryStore = world.stores[USER_STATE]
    for partition, records in store.changelog.items():
        assert all(partition_for(key.decode(), PARTITIONS) == partition for key, _ in records)
    assert {key.decode() for records in store.changelog.values() for key, _ in records} == {
        f"u{n}" for n in range(20)
    }


def test_a_bad_record_goes_to_dead_letters_and_a_misrouted_one_to_its_users_partition() -> None:
    world = World()
    bad = Delivered("u1", b"{not json", Message(topics.EVENTS, 0, 7))
    good = event("u2", "i1", event_id="e1")
    wrong_partition = (partition_for("u3", PARTITIONS) + 1) % PARTITIONS
    misrouted = Delivered("u3", event("u3", "i1").value, Message(topics.EVENTS, wrong_partition, 8))
    assert world.apply(bad, good, misrouted) == 1
    letters = world.outlet.values(topics.DEAD_LETTERS)
    assert [(letter["source_topic"], letter["offset"]) for letter in letters] == [("events", 7)]
    rerouted = [r for r in world.outlet.sent if r.topic == topics.EVENTS]
    assert [(r.key, r.partition) for r in rerouted] == [(b"u3", partition_for("u3", PARTITIONS))]
    assert world.stores[USER_STATE].value("u3") is None


def test_item_signals_fold_into_counters_once_per_event_id() -> None:
    world = World()
    world.apply(event("u1", "i1", event_id="e1"), event("u2", "i1", "purchase", event_id="e2"))
    assert world.forward_signals() == 2
    counts = world.stores[ITEM_STATE].value("i1")["counts"]
    assert counts == {"view": 1, "purchase": 1}
    world.apply(event("u1", "i1", event_id="e1"))
    assert world.forward_signals() == 0


def test_an_erase_tombstones_the_user_and_removes_them_from_the_tallies() -> None:
    world = World()
    world.apply(event("u1", "i1", event_id="e1"))
    command = UserCommand(user_id="u1", command="erase", timestamp=NOW)
    asyncio.run(world.users.apply_command(command))
    assert world.stores[USER_STATE].value("u1") is None
    partition = partition_for("u1", PARTITIONS)
    assert (b"u1", None) in world.stores[USER_STATE].changelog[partition]
    assert world.stores[USER_CONSENT].value("u1") is not None
    assert world.apply(event("u1", "i2", event_id="e2")) == 0  # erased: nothing is stored


def test_impressions_tally_arms_and_send_impression_signals() -> None:
    world = World()
    impression = {
        "request_id": "r1",
        "user_id": "u1",
        "items": [{"item_id": "i1", "position": 0, "source": "als"}],
        "model_version": "v1",
        "timestamp": NOW,
        "experiment_id": "exp",
        "variant": "control",
    }
    delivered = Delivered("u1", orjson.dumps(impression), Message(topics.IMPRESSIONS, 0, 0))
    assert (
        asyncio.run(apply_impressions(world.runtime, PARTITIONS, world.tallies, [delivered])) == 1
    )  # type: ignore[list-item]
    assert any(key.startswith("t|exp|") for key in world.stores[VARIANT_TALLIES].held_keys())
    rows = [row for batch in world.outlet.values(topics.ITEM_SIGNALS) for row in batch]
    assert rows == [["i1", impression_signal_id("r1", "i1"), "impression", NOW, 1]]


def test_commit_has_its_records_acknowledged_before_it_writes_any_table() -> None:
    order: list[str] = []

    class Watching(MemoryStore):
        def write(self, partition: int, records: dict[bytes, bytes | None]) -> None:
            order.append("write")
            super().write(partition, records)

        def log(self, partition: int, records: dict[bytes, bytes | None]) -> None:
            order.append("log")
            super().log(partition, records)

    class Sending(MemoryOutlet):
        async def send(
            self, topic: str, key: bytes | None, value: bytes, partition: int | None
        ) -> Awaitable[Any]:
            order.append("send")
            await super().send(topic, key, value, partition)
            return acknowledged()

    async def acknowledged() -> None:
        order.append("acknowledged")

    runtime = Runtime({"t": Watching()}, Sending())
    transaction = runtime.transaction()
    transaction.emit("out", "k", b"v")
    transaction.put("t", "k", {"a": 1}, 0)
    assert transaction.get("t", "k", 0) == {"a": 1}
    assert asyncio.run(transaction.commit()) == 1
    assert order == ["send", "acknowledged", "write", "log"]
    assert runtime.read("t", "k", 0) == {"a": 1}


def test_the_item_owner_logs_one_summary_per_changed_item_per_batch() -> None:
    world = World()
    world.items = ItemActors(world.runtime, PARTITIONS, 100, summaries="item-summaries")
    world.apply(*(event(f"u{n}", "i1", event_id=f"e{n}") for n in range(5)))
    assert world.forward_signals() == 5
    summaries = [r for r in world.outlet.sent if r.topic == "item-summaries"]
    assert [(r.key, r.partition) for r in summaries] == [(b"i1", partition_for("i1", PARTITIONS))]


def test_impressions_keyed_by_another_user_or_malformed_go_to_dead_letters() -> None:
    world = World()
    page = {"request_id": "r1", "user_id": "u1", "model_version": "v1", "timestamp": NOW}
    served = {"item_id": "i1", "position": 0, "source": "als"}
    misrouted = Delivered(
        "u2", orjson.dumps({**page, "items": [served]}), Message(topics.IMPRESSIONS, 0, 1)
    )
    malformed = {**page, "items": [{**served, "item_id": 1.5}]}
    bad = Delivered("u1", orjson.dumps(malformed), Message(topics.IMPRESSIONS, 0, 2))
    applied = asyncio.run(
        apply_impressions(world.runtime, PARTITIONS, world.tallies, [misrouted, bad])
    )  # type: ignore[list-item]
    assert applied == 0
    reasons = [letter["reason"] for letter in world.outlet.values(topics.DEAD_LETTERS)]
    assert reasons == [
        "key: must equal the record's user_id ('u1')",
        "items[0].item_id: must be a string",
    ]
    assert world.outlet.values(topics.ITEM_SIGNALS) == []
