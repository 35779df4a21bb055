"""A poison fuzz on every input topic: each record reaches `dead-letters` with its reason, none
is applied, and the worker stays live and keeps applying good records."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cli.embedded_broker import EmbeddedBroker
from tests.chaos.poison import (
    FOLLOWED_TOPICS,
    INPUT_TOPICS,
    Poison,
    followed_poison,
    poison_for,
    rerouted_events,
    valid_record,
)
from tests.chaos.topics import dead_letters, produce
from tests.integration.events import wait_for
from tests.integration.workers import Worker, module_worker, post

pytestmark = [pytest.mark.integration, pytest.mark.chaos]
SEED = 18


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with its own consumer group."""
    running = module_worker(broker.url, tmp_path_factory.mktemp("poison"), "poison")
    yield running
    running.stop()


def good_records(run: str) -> list[Poison]:
    """One valid record per input topic, sent after the poison: each must be applied (the
    consent change opts a user with no events out, so that it shows)."""
    records = []
    for topic in INPUT_TOPICS:
        key, value = valid_record(topic, run, 1)
        if topic == "users":
            key, value = f"{run}-u2", {**value, "user_id": f"{run}-u2", "command": "opt_out"}
        records.append(Poison(topic, key.encode(), json.dumps(value).encode(), "good"))
    return records


def body(worker: Worker, path: str) -> dict[str, Any]:
    """The JSON body of a GET, empty unless it answered 200."""
    response = worker.get(path)
    return dict(response.json()) if response.status_code == 200 else {}


def good_records_applied(worker: Worker, run: str) -> bool:
    """Whether the good event, item, consent change and impression were all applied."""
    user, item = f"{run}-u1", f"{run}-i1"
    history = body(worker, f"/v1/users/{user}/history")
    opted_out = body(worker, f"/v1/users/{run}-u2/history")
    catalog = body(worker, f"/v1/items/{item}").get("catalog") or {}
    signals = body(worker, f"/v1/items/{item}").get("signals") or {}
    return (
        history.get("version") == 1
        and opted_out.get("opted_out") is True
        and catalog.get("title") == "Film 1"
        and signals.get("impressions") == 1
        and signals.get("events_all") == 1
    )


def test_every_poison_record_is_dead_lettered_with_its_reason_and_the_worker_lives(
    worker: Worker, broker: EmbeddedBroker
) -> None:
    run, rng = uuid.uuid4().hex[:8], random.Random(SEED)
    poison = [record for topic in INPUT_TOPICS for record in poison_for(topic, run, rng)]
    sent = produce(broker.url, [*poison, *rerouted_events(run, rng), *good_records(run)])
    refused = {position for position, record in sent.items() if record.kind != "good"}
    refused -= {
        p for p, r in sent.items() if r.topic == "events" and r.kind.startswith("wrong key")
    }
    assert len(refused) == len(poison) > 250

    def all_dead_lettered() -> bool:
        return refused <= dead_letters(broker.url).keys()

    assert wait_for(lambda: good_records_applied(worker, run), 60), worker.tail()
    assert wait_for(all_dead_lettered, 60), (
        f"{len(refused - dead_letters(broker.url).keys())} of {len(refused)} poison records "
        f"never reached dead-letters:\n{worker.tail()}"
    )
    letters = dead_letters(broker.url)
    assert all(letters[position].strip() for position in refused)
    assert not (sent.keys() - refused) & letters.keys(), "a good record was dead-lettered"
    assert worker.get("/health").status_code == 200
    assert "Crashed" not in worker.log.read_text(errors="replace"), worker.tail()


def test_valid_events_keyed_wrongly_are_applied_once_to_their_user(
    worker: Worker, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    rerouted = rerouted_events(run, random.Random(SEED))
    produce(broker.url, rerouted)
    users = [f"{run}-u{10 + n}" for n in range(len(rerouted))]

    def applied_once() -> bool:
        return all(body(worker, f"/v1/users/{user}/history").get("version") == 1 for user in users)

    assert wait_for(applied_once, 60), worker.tail()


def test_poison_on_the_followed_topics_is_skipped_and_both_feeds_go_on(
    worker: Worker, broker: EmbeddedBroker
) -> None:
    run, rng = uuid.uuid4().hex[:8], random.Random(SEED)
    produce(broker.url, [r for topic in FOLLOWED_TOPICS for r in followed_poison(topic, run, rng)])
    experiment = {"id": f"{run}-after", "variants": [{"name": "a"}, {"name": "b"}]}
    # The write returns once this worker's experiments feed applied it: the feed got past.
    created = post(worker, "/v1/experiments", experiment)
    assert created.status_code == 201, created.text
    assert worker.get("/v1/recommendations", user_id=f"{run}-u").status_code == 200
    assert worker.get("/ready").status_code == 200, worker.tail()
    assert "Crashed" not in worker.log.read_text(errors="replace"), worker.tail()
