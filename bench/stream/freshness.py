"""Read-your-writes freshness: POST an event, then how soon the worker's answers reflect it.

Starts the embedded broker and one worker, then for each trial POSTs a purchase and polls
(every 5 ms) until the user's history shows it, then asks for recommendations until the item
has left them. A second series asks for recommendations right after the 202 (the next GET),
again until the item has left them, and counts how often the very first page was already right.
Baseline in the same run: a bare produce → consume round trip on the same broker (the floor).
Usage: python -m bench.stream.freshness [--trials 200]
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.common.report import load_average, parser
from bench.common.stack import bench_worker
from bench.common.stats import percentile
from streamrec.settings import Settings
from tests.integration.workers import Worker

POLL_S = 0.005
PAGE_POLL_S = 0.02


async def broker_round_trips(settings: Settings, trials: int) -> list[float]:
    """Seconds from send to receipt by a consumer waiting on the same topic."""
    topic = f"bench-rtt-{uuid.uuid4().hex[:6]}"
    out = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=0)
    into = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        fetch_max_wait_ms=settings.fetch_wait_ms,
        auto_offset_reset="latest",
    )
    await out.start()
    await into.start()
    await out.send_and_wait(topic, b"warm")
    await asyncio.sleep(1.0)
    await into.getmany(timeout_ms=500)
    times = []
    try:
        for _ in range(trials):
            started = time.perf_counter()
            await out.send_and_wait(topic, b"x")
            while not await into.getmany(timeout_ms=1000):
                pass
            times.append(time.perf_counter() - started)
    finally:
        await out.stop()
        await into.stop()
    return times


async def trial(
    client: httpx.AsyncClient, worker: Worker, user: str, item: str
) -> tuple[float, float]:
    """(seconds until history shows the purchase, until a recommendation page no longer has it).

    History (a cheap read) is polled every 5 ms; once it shows the event, recommendations are
    asked for, again every 20 ms if the item is still there. Polling recommendations from the
    start would keep the worker busy computing pages and delay the very update being timed.
    """
    before = await history_version(client, worker, user)
    event = {"user_id": user, "item_id": item, "type": "purchase", "timestamp": time.time()}
    started = time.perf_counter()
    await post_event(client, worker, event)
    while await history_version(client, worker, user) <= before:
        await asyncio.sleep(POLL_S)
    seen = time.perf_counter() - started
    while True:
        if not await page_shows(client, worker, user, item):
            return seen, time.perf_counter() - started
        await asyncio.sleep(PAGE_POLL_S)


def expect(response: httpx.Response, status: int) -> httpx.Response:
    """The response when it has `status`; otherwise the run stops with the worker's answer."""
    if response.status_code != status:
        request = f"{response.request.method} {response.request.url.path}"
        raise RuntimeError(f"{request} answered {response.status_code}: {response.text}")
    return response


async def history_version(client: httpx.AsyncClient, worker: Worker, user: str) -> int:
    """The version of the user's state as its history answers it."""
    response = expect(await client.get(f"{worker.url}/v1/users/{user}/history"), 200)
    return int(response.json()["version"])


async def post_event(client: httpx.AsyncClient, worker: Worker, event: dict[str, object]) -> None:
    """POST one event; anything but 202 stops the run with the worker's answer."""
    expect(await client.post(f"{worker.url}/v1/events", json=event), 202)


async def page_shows(client: httpx.AsyncClient, worker: Worker, user: str, item: str) -> bool:
    """Whether the user's recommendation page (50 items) still shows `item`."""
    params: dict[str, str | int] = {"user_id": user, "count": 50}
    response = expect(await client.get(f"{worker.url}/v1/recommendations", params=params), 200)
    return item in {entry["item_id"] for entry in response.json()["items"]}


async def direct_trial(
    client: httpx.AsyncClient, worker: Worker, user: str, item: str
) -> tuple[float, bool]:
    """(seconds from POST until a page lacks the item, whether the first page after 202 did).

    Recommendations are asked for as soon as the POST answers, then every 20 ms."""
    event = {"user_id": user, "item_id": item, "type": "purchase", "timestamp": time.time()}
    started = time.perf_counter()
    await post_event(client, worker, event)
    first = True
    while True:
        if not await page_shows(client, worker, user, item):
            return time.perf_counter() - started, first
        first = False
        await asyncio.sleep(PAGE_POLL_S)


async def wait_for_user(
    client: httpx.AsyncClient, worker: Worker, user: str, timeout: float = 60.0
) -> None:
    """Wait until the worker holds the user's first event (its history answers 200)."""
    deadline = time.monotonic() + timeout
    while (await client.get(f"{worker.url}/v1/users/{user}/history")).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{user}'s first event not applied after {timeout:.0f} s")
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)


@dataclass
class Series:
    """What the trials measured, in seconds."""

    seen: list[float] = field(default_factory=list)
    gone: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    first_page_right: int = 0


async def measure(worker: Worker, trials: int) -> Series:
    """Run both series of trials against one worker."""
    items = [f"item-{n}" for n in range(2 * trials + 20)]
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(
            f"{worker.url}/v1/items", json={"items": [{"item_id": i, "title": i} for i in items]}
        )
        crowd = [
            {"user_id": f"crowd-{n % 5}", "item_id": i, "type": "view", "timestamp": time.time()}
            for n, i in enumerate(items)
        ]
        await client.post(f"{worker.url}/v1/events", json={"events": crowd})
        user = "reader"
        await client.post(
            f"{worker.url}/v1/events",
            json={"user_id": user, "item_id": "warm", "type": "view", "timestamp": time.time()},
        )
        await wait_for_user(client, worker, user)
        series = Series()
        for n in range(trials):
            seen, gone = await trial(client, worker, user, items[n])
            series.seen.append(seen)
            series.gone.append(gone)
        for n in range(trials, 2 * trials):
            took, first = await direct_trial(client, worker, user, items[n])
            series.direct.append(took)
            series.first_page_right += first
    return series


def report(name: str, values: list[float]) -> float:
    """Print p50/p99 in ms; return p99 in seconds."""
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    print(
        f"{name:<44} p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
        f"mean {statistics.mean(values) * 1000:7.1f} ms"
    )
    return p99


def main() -> None:
    """Run the benchmark and print figures and ratios."""
    options = parser(__doc__)
    options.add_argument("--trials", type=int, default=200, help="trials of each series (200)")
    args = options.parse_args()
    load = load_average()
    with bench_worker("fresh") as worker:
        floor = asyncio.run(broker_round_trips(worker.settings, args.trials))
        series = asyncio.run(measure(worker, args.trials))
    print(f"trials: {args.trials}, poll every {POLL_S * 1000:.0f} ms")
    print(f"load average before: {load}; after: {load_average()}")
    base = report("baseline: broker produce → consume", floor)
    history_p99 = report("POST → history shows the event", series.seen)
    gone_p99 = report("POST → purchased item gone from recommendations", series.gone)
    direct_p99 = report("POST → gone, pages asked right after the 202", series.direct)
    print(
        f"first page after the 202 already without the item: "
        f"{series.first_page_right}/{args.trials}"
    )
    verdict = "met" if direct_p99 < 0.2 else "NOT met"
    print(
        f"ratio p99 next page/broker floor: {direct_p99 / base:.1f}x; target (the next page "
        f"after the 202 lacks the item) p99 < 200 ms: {verdict}; after the state shows it: "
        f"p99 {gone_p99 * 1000:.0f} ms (history p99 {history_p99 * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
