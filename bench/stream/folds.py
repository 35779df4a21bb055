"""Throughput of the user and item folds, each event round-tripping its state through JSON dicts.

Run: python -m bench.stream.folds [--events 200000] [--users 1000] [--items 5000]
Every loop builds its Interaction objects; the baseline loop does only that, so the ratio shows
what the fold plus to_json/from_json cost on top of decoding an event.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from schemas.records import EVENT_TYPES, Interaction
from tables.item import ItemState, apply_item_event
from tables.user import UserState, apply_interaction

Raw = tuple[str, str, str, str, float, float | None]
START = 1_700_000_000.0
CATEGORIES = ("books", "music", "garden", "toys", "food", "sport")


def synthetic_events(count: int, users: int, items: int, seed: int = 7) -> list[Raw]:
    """Raw fields of `count` events a second apart, one in ten arriving up to an hour late."""
    rng = random.Random(seed)
    weights = (60, 25, 8, 4, 3)
    types = rng.choices(EVENT_TYPES, weights=weights, k=count)
    raw: list[Raw] = []
    for number, event_type in enumerate(types):
        late = rng.uniform(0, 3600) if rng.random() < 0.1 else 0.0
        value = float(rng.randint(1, 5)) if event_type == "rating" else None
        raw.append(
            (
                f"ev{number}",
                f"u{rng.randrange(users)}",
                f"i{rng.randrange(items)}",
                event_type,
                START + number - late,
                value,
            )
        )
    return raw


def build(fields: Raw) -> Interaction:
    """The event object, as the agent gets it from the topic."""
    event_id, user_id, item_id, event_type, timestamp, value = fields
    return Interaction(
        event_id=event_id,
        user_id=user_id,
        item_id=item_id,
        type=event_type,
        timestamp=timestamp,
        value=value,
    )


def baseline_loop(raw: list[Raw]) -> None:
    """Only builds the event objects."""
    for fields in raw:
        build(fields)


def user_loop(raw: list[Raw]) -> None:
    """Builds each event and folds it into its user's state, loaded from and stored as JSON."""
    store: dict[str, dict[str, Any]] = {}
    for fields in raw:
        event = build(fields)
        data = store.get(event.user_id)
        state = UserState.from_json(data) if data is not None else None
        category = CATEGORIES[int(event.item_id[1:]) % len(CATEGORIES)]
        state, _ = apply_interaction(state, event, category)
        store[event.user_id] = state.to_json()


def item_loop(raw: list[Raw]) -> None:
    """Builds each event and folds it into its item's state, loaded from and stored as JSON."""
    store: dict[str, dict[str, Any]] = {}
    for fields in raw:
        event = build(fields)
        data = store.get(event.item_id)
        state = ItemState.from_json(data) if data is not None else None
        store[event.item_id] = apply_item_event(state, event).to_json()


def events_per_second(loop: Callable[[list[Raw]], None], raw: list[Raw]) -> float:
    """Events per second of one run of `loop`."""
    started = time.perf_counter()
    loop(raw)
    return len(raw) / (time.perf_counter() - started)


def main() -> None:
    """Run the three loops on the same events and print their rates."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events per loop")
    parser.add_argument("--users", type=int, default=1_000, help="distinct users")
    parser.add_argument("--items", type=int, default=5_000, help="distinct items")
    args = parser.parse_args()
    raw = synthetic_events(args.events, args.users, args.items)
    started = time.perf_counter()
    baseline = events_per_second(baseline_loop, raw)
    print(f"baseline (build events only):  {baseline:>10,.0f} events/s")
    for name, loop in (("user fold", user_loop), ("item fold", item_loop)):
        rate = events_per_second(loop, raw)
        ratio = rate / baseline
        print(f"{name} + from_json/to_json: {rate:>10,.0f} events/s ({ratio:.2f}x baseline)")
    print(f"{len(raw):,} events per loop, {time.perf_counter() - started:.1f} s in all")


if __name__ == "__main__":
    main()
