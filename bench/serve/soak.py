"""Soak: one worker under a steady mixed load (events and recommendations) for --minutes
after --warmup-minutes.

The key space is small (USERS users, ITEMS items), so every user's and item's state reaches its
bounded size (a 50-event history, 256 remembered event ids) during the warm-up: growth after it
is not state being filled. Prints, per minute, the worker's RSS, its open file descriptors and
the recommendation p50/p99 seen by the client, then RSS and descriptor growth from the end of
the warm-up to the end (descriptors on RocksDB .sst files apart: flushes add them, compactions
merge them), and the ratio of the last minute's p99 to the first soak minute's.
Targets: RSS growth under 10%, no descriptor growth, p99 stable.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.common.proc import MIB, open_fds, rss_bytes
from bench.common.report import load_average, parser
from bench.common.stack import bench_worker
from bench.common.stats import percentile
from tests.integration.workers import Worker

SAMPLE_S = 5.0
USERS, ITEMS, BATCH = 100, 50, 10


@dataclass
class Minute:
    """What one minute of the soak saw."""

    rss_mib: list[float] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    table_files: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def paced(rate: float, stop: threading.Event, step: object) -> None:
    """Call `step(n)` `rate` times a second until `stop` is set; calls that fall behind are
    not made up in a burst (the load stays steady)."""
    due, n = time.monotonic(), 0
    while not stop.is_set():
        step(n)  # type: ignore[operator]
        n += 1
        due = max(due + 1 / rate, time.monotonic())
        time.sleep(max(due - time.monotonic(), 0.0))


def events_load(worker: Worker, rate: float, stop: threading.Event, run: str) -> None:
    """POST batches of BATCH events, `rate` events a second."""
    with httpx.Client(base_url=worker.url, timeout=10) as client:

        def step(n: int) -> None:
            kinds = ("view", "view", "click", "add_to_cart", "purchase")
            batch = [
                {
                    "user_id": f"{run}-u{(n * BATCH + k) % USERS}",
                    "item_id": f"{run}-i{(n * 7 + k * 13) % ITEMS}",
                    "type": kinds[(n + k) % len(kinds)],
                }
                for k in range(BATCH)
            ]
            client.post("/v1/events", json={"events": batch})

        paced(rate / BATCH, stop, step)


def recommendations_load(
    worker: Worker, rate: float, stop: threading.Event, run: str, minutes: list[Minute]
) -> None:
    """GET pages for users in turn, `rate` a second, timing each into the current minute."""
    with httpx.Client(base_url=worker.url, timeout=10) as client:

        def step(n: int) -> None:
            started = time.perf_counter()
            response = client.get("/v1/recommendations", params={"user_id": f"{run}-u{n % USERS}"})
            minute = minutes[-1]
            minute.latencies.append(time.perf_counter() - started)
            if response.status_code >= 500:
                minute.errors += 1

        paced(rate, stop, step)


def soak(worker: Worker, args: argparse.Namespace) -> list[Minute]:
    """Run the load for the warm-up and the soak, sampling the worker every SAMPLE_S seconds."""
    run, stop, minutes = uuid.uuid4().hex[:6], threading.Event(), [Minute()]
    threads = [
        threading.Thread(target=events_load, args=(worker, args.events_per_s, stop, run)),
        threading.Thread(
            target=recommendations_load, args=(worker, args.pages_per_s, stop, run, minutes)
        ),
    ]
    for thread in threads:
        thread.start()
    started, pid = time.monotonic(), worker.process.pid
    try:
        total = args.warmup_minutes + args.minutes
        while time.monotonic() - started < total * 60:
            time.sleep(SAMPLE_S)
            minutes[-1].rss_mib.append(rss_bytes(pid) / MIB)
            fds, table_files = open_fds(pid)
            minutes[-1].fds.append(fds)
            minutes[-1].table_files.append(table_files)
            if time.monotonic() - started >= 60 * len(minutes) and len(minutes) < total:
                minutes.append(Minute())
                print_minute(len(minutes) - 1, minutes[-2])
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    print_minute(len(minutes), minutes[-1])
    return minutes


def ms(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of latencies in seconds, in ms."""
    return percentile(values, q) * 1000


def print_minute(number: int, minute: Minute) -> None:
    """One line of figures for a minute of the soak."""
    print(
        f"minute {number:2d}: RSS {minute.rss_mib[-1]:7.1f} MiB, fds {minute.fds[-1]:4d} "
        f"({minute.table_files[-1]:3d} on .sst files), "
        f"pages {len(minute.latencies):5d}, p50 {ms(minute.latencies, 0.5):6.1f} ms, "
        f"p99 {ms(minute.latencies, 0.99):6.1f} ms, 5xx {minute.errors}",
        flush=True,
    )


def others(minute: Minute) -> int:
    """Descriptors other than RocksDB table files at the end of a minute."""
    return minute.fds[-1] - minute.table_files[-1]


def summary(minutes: list[Minute], warmup: int) -> None:
    """RSS and descriptor growth from the end of the warm-up, and the p99 ratio."""
    base, last = minutes[warmup - 1], minutes[-1]
    growth = (last.rss_mib[-1] - base.rss_mib[-1]) / base.rss_mib[-1] * 100
    p99_first, p99_last = ms(minutes[warmup].latencies, 0.99), ms(last.latencies, 0.99)
    p99s = [ms(m.latencies, 0.99) for m in minutes[warmup:]]
    print(
        f"after the warm-up: RSS {base.rss_mib[-1]:.1f} → {last.rss_mib[-1]:.1f} MiB: "
        f"growth {growth:+.1f}% "
        f"(target < 10%); fds {base.fds[-1]} → {last.fds[-1]} "
        f"(growth {last.fds[-1] - base.fds[-1]:+d}, of which RocksDB .sst files "
        f"{last.table_files[-1] - base.table_files[-1]:+d}; other descriptors "
        f"{others(last) - others(base):+d}, target 0); p99 first soak minute "
        f"{p99_first:.1f} ms, last {p99_last:.1f} ms, ratio {p99_last / p99_first:.2f}; "
        f"p99 across soak minutes {min(p99s):.1f} to {max(p99s):.1f} ms; "
        f"5xx {sum(m.errors for m in minutes)}"
    )


def main() -> None:
    """Run the soak and print its figures."""
    options = parser(__doc__)
    options.add_argument("--minutes", type=int, default=10, help="soak minutes (10)")
    options.add_argument("--warmup-minutes", type=int, default=2, help="warm-up minutes (2)")
    options.add_argument("--events-per-s", type=float, default=200.0, help="events/s (200)")
    options.add_argument("--pages-per-s", type=float, default=50.0, help="pages/s (50)")
    args = options.parse_args()
    load = load_average()
    with bench_worker("soak") as worker:
        print(
            f"soak: {args.minutes} min after {args.warmup_minutes} min of warm-up, "
            f"{args.events_per_s:g} events/s in batches of {BATCH}, {args.pages_per_s:g} "
            f"pages/s, {USERS} users, {ITEMS} items",
            flush=True,
        )
        summary(soak(worker, args), args.warmup_minutes)
    print(f"load average before: {load}; after: {load_average()}")


if __name__ == "__main__":
    main()
