"""Throughput of the user and item folds, each event round-tripping its state through JSON dicts.

Run: python -m bench.stream.folds [--events 200000] [--users 1000] [--items 5000]
Every loop builds its Interaction objects; the baseline loop does only that, so the ratio shows
what the fold plus to_json/from_json cost on top of decoding an event. The events
(bench/stream/events.py) are a second apart, one in ten arriving up to an hour late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.common.report import parser
from bench.stream.events import backlog_options, synthetic_events
from schemas.records import Interaction
from tables.item import ItemState, apply_item_event
from tables.user import UserState, apply_interaction

Raw = dict[str, Any]
CATEGORIES = ("books", "music", "garden", "toys", "food", "sport")


def build(fields: Raw) -> Interaction:
    """The event object, as the agent gets it from the topic."""
    return Interaction(**fields)


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
    options = parser(__doc__)
    backlog_options(options, events=200_000, users=1_000, items=5_000)
    args = options.parse_args()
    raw = synthetic_events(args.events, args.users, args.items, per_second=1.0, late=0.1)
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
