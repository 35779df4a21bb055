"""What an idle stack costs: CPU of the embedded broker and one worker with no traffic.

Starts the embedded broker and one worker, gives them one event and one catalog item, waits
(--settle seconds), then samples both processes' CPU time from /proc/<pid>/stat for --seconds
seconds and prints it as a share of one core, beside the freshness of the same stack
afterwards: POST a purchase, poll the history until the worker has applied it, then the page
until the item has left it (bench/stream/freshness.py's `trial`, --trials times).
Usage: python -m bench.stream.idle [--seconds 30] [--settle 20] [--trials 100]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bench.common.proc import cpu_seconds
from bench.common.report import load_average, parser
from bench.common.stack import bench_stack
from bench.common.stats import percentile
from bench.stream.freshness import post_event, trial, wait_for_user
from tests.integration.workers import Worker

TARGET_SHARE, FRESHNESS_P99_MS = 0.03, 100.0


def sample(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU over `seconds` of wall time, as a share of one core."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - started
    return {name: (cpu_seconds(pid) - before[name]) / wall for name, pid in pids.items()}


async def seed(worker: Worker, items: int) -> None:
    """One catalog item per trial and the reader's first event, applied."""
    async with httpx.AsyncClient(timeout=10) as client:
        listed = [{"item_id": f"item-{n}", "title": f"item {n}"} for n in range(items)]
        await client.post(f"{worker.url}/v1/items", json={"items": listed})
        event = {"user_id": "reader", "item_id": "warm", "type": "view", "timestamp": time.time()}
        await post_event(client, worker, event)
        await wait_for_user(client, worker, "reader")


async def freshness(worker: Worker, trials: int) -> tuple[list[float], list[float]]:
    """Seconds from each purchase's POST until the history shows it, and until a page asked
    after that lacks the item."""
    seen, gone = [], []
    async with httpx.AsyncClient(timeout=10) as client:
        for n in range(trials):
            applied, left = await trial(client, worker, "reader", f"item-{n}")
            seen.append(applied)
            gone.append(left)
            await asyncio.sleep(0.05)
    return seen, gone


def main() -> None:
    """Start the stack, sample it idle, then measure freshness; print both."""
    options = parser(__doc__)
    options.add_argument("--seconds", type=float, default=30.0, help="sampling seconds (30)")
    options.add_argument("--settle", type=float, default=20.0, help="seconds idle before (20)")
    options.add_argument("--trials", type=int, default=100, help="freshness trials (100)")
    options.add_argument(
        "--fetch-wait-ms", type=int, default=None, help="the worker's fetch wait (the default)"
    )
    args = options.parse_args()
    overrides: dict[str, Any] = {"redis_url": ""}
    if args.fetch_wait_ms is not None:
        overrides["fetch_wait_ms"] = args.fetch_wait_ms
    with bench_stack("idle", **overrides) as (broker, worker):
        asyncio.run(seed(worker, args.trials))
        time.sleep(args.settle)
        pids = {"broker": broker.process.pid, "worker": worker.process.pid}
        load = load_average()
        shares = sample(pids, args.seconds)
        seen, gone = asyncio.run(freshness(worker, args.trials))
        fetch_wait_ms = worker.settings.fetch_wait_ms
    report(shares, (seen, gone), load, load_average(), args.seconds, fetch_wait_ms)


def report(
    shares: dict[str, float],
    took: tuple[list[float], list[float]],
    load_before: str,
    load_after: str,
    seconds: float,
    fetch_wait_ms: int,
) -> None:
    """Print idle CPU beside freshness, with the targets."""
    total = sum(shares.values())
    seen, gone = took
    p50, p99 = percentile(gone, 0.5) * 1000, percentile(gone, 0.99) * 1000
    seen_p99 = percentile(seen, 0.99) * 1000
    first, worst = gone[0] * 1000, max(gone) * 1000
    idle_ok = "met" if total < TARGET_SHARE else "NOT met"
    fresh_ok = "met" if p99 < FRESHNESS_P99_MS else "NOT met"
    print(
        f"idle {seconds:.0f} s (STREAMREC_FETCH_WAIT_MS={fetch_wait_ms}): broker "
        f"{shares['broker'] * 100:.1f}% of a core, worker {shares['worker'] * 100:.1f}%, "
        f"together {total * 100:.1f}% (target < {TARGET_SHARE * 100:.0f}%: {idle_ok})"
    )
    print(
        f"freshness after it, {len(gone)} trials: POST purchase → applied and the page without "
        f"the item p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < {FRESHNESS_P99_MS:.0f} ms: "
        f"{fresh_ok}); → history shows it p99 {seen_p99:.1f} ms; the first trial, right "
        f"after the quiet spell: {first:.1f} ms; the slowest: {worst:.1f} ms"
    )
    print(f"load average before: {load_before}; after: {load_after}")


if __name__ == "__main__":
    main()
