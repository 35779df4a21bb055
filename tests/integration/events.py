"""Synthetic event streams for integration tests, and the state a clean replay gives."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from schemas import parse_interaction
from streamrec.kafka import RateLimiter, producer
from streamrec.settings import Settings
from tables.user import UserState, apply_interaction
from tests.integration.workers import Worker


def make_events(run: str, count: int, users: int, items: int = 30) -> list[dict[str, Any]]:
    """`count` events over `users` users, with ids unique to this run."""
    kinds = ("view", "view", "click", "add_to_cart", "purchase")
    return [
        {
            "event_id": f"{run}-e{i}",
            "user_id": f"{run}-u{i % users}",
            "item_id": f"{run}-i{(i * 7) % items}",
            "type": kinds[i % len(kinds)],
            "timestamp": 1_700_000_000 + i,
        }
        for i in range(count)
    ]


def expected_users(events: list[dict[str, Any]]) -> dict[str, UserState]:
    """User states a clean, single pass over the events gives."""
    states: dict[str, UserState] = {}
    for raw in events:
        event = parse_interaction(raw)
        state, _ = apply_interaction(states.get(event.user_id), event, None)
        states[event.user_id] = state
    return states


async def _publish(settings: Settings, events: list[dict[str, Any]], rate: float | None) -> None:
    limiter = RateLimiter(rate)
    async with producer(settings, linger_ms=5) as out:
        for event in events:
            await limiter.admit(1)
            await out.send(
                "events", key=event["user_id"].encode(), value=json.dumps(event).encode()
            )
        await out.flush()


def publish(settings: Settings, events: list[dict[str, Any]], rate: float | None = None) -> None:
    """Publish events keyed by user (blocking)."""
    asyncio.run(_publish(settings, events, rate))


def publish_in_background(
    settings: Settings, events: list[dict[str, Any]], rate: float
) -> threading.Thread:
    """Publish at `rate` events/s from a thread; join it to wait for the end."""
    thread = threading.Thread(target=publish, args=(settings, events, rate), daemon=True)
    thread.start()
    return thread


def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    """Poll until `predicate()` is true or the timeout passes; return the last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def user_matches(worker: Worker, user_id: str, expected: UserState) -> bool:
    """Whether the worker's view of a user equals the clean replay's."""
    response = worker.get(f"/v1/users/{user_id}/history")
    if response.status_code != 200:
        return False
    body: dict[str, Any] = response.json()
    return bool(body["version"] == expected.version and body["counts"] == expected.counts)


def all_match(worker: Worker, expected: dict[str, UserState]) -> bool:
    """Whether every user equals the clean replay."""
    return all(user_matches(worker, user, state) for user, state in expected.items())


def mismatches(worker: Worker, expected: dict[str, UserState], limit: int = 5) -> str:
    """The first users whose state differs from the clean replay, both sides, and the log."""
    lines = []
    for user_id, state in expected.items():
        if not user_matches(worker, user_id, state):
            response = worker.get(f"/v1/users/{user_id}/history")
            got = response.text[:300] if response.status_code == 200 else response.status_code
            lines.append(f"{user_id}: expected v{state.version} {state.counts}, got {got}")
    shown = "\n".join(lines[:limit])
    return f"{len(lines)} of {len(expected)} users differ:\n{shown}\n{worker.tail()}"
