"""Worker throughput, freshness and footprint on the embedded broker, all in one run.

Run: python -m bench.stream.throughput [--events 300000] [--users 100000] [--items 20000] [--skew 0]
     [--phases anbcdr] [--repeat N] [--results FILE]   (phases s and t on request)
Measures (a) a do-nothing Faust agent on `events` with the worker's settings and broker fixes
but Faust's own per-message delivery, (n) the same agent on the worker's delivery path
(agents/runtime/patches/delivery.py), (b) one `streamrec worker` folding the same backlog into
every table: (b)/(a) compares the worker with what Faust delivers, (b)/(n) is the cost of the
worker's own work on the same delivery path; (s) the worker without item summaries
(STREAMREC_ITEM_SUMMARIES=off): (b)/(s) is what publishing and folding every item's summary costs
one worker; (c) two and (t) three workers in one group, (d) publish-to-applied freshness at a
steady rate, (e) RocksDB size and worker RSS, (r) a bare aiokafka consumer's publish-to-fetch
lag at the same rate: the broker's floor under (d).
Each phase gets a fresh embedded broker (internal topics are not namespaced by app id).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common.metrics import quantile
from bench.common.proc import rss_bytes, stop
from bench.common.report import command, load_average, parser
from bench.common.stack import broker_with_topics
from bench.stream.events import backlog_options, synthetic_events
from bench.stream.probe import (
    PHASE_TIMEOUT_S,
    POLL_S,
    applied,
    du_bytes,
    lag_buckets,
    live_bytes,
    scrape,
    tail,
    watch,
)
from bench.stream.raw import phase_raw
from bench.stream.report import report
from streamrec.kafka import producer, send_all
from streamrec.settings import BROKER_FIXES, Settings
from tests.conftest import with_env
from tests.integration.workers import Worker, start_worker


def publish(settings: Settings, events: list[dict[str, Any]], rate: float | None = None) -> None:
    """Produce events keyed by user (blocking, waits for acks)."""
    keys = [event["user_id"].encode() for event in events]
    values = [json.dumps(event).encode() for event in events]

    async def run() -> None:
        async with producer(settings, linger_ms=5 if rate else 20) as client:
            await send_all(client, "events", keys, values, progress=rate is None, rate=rate)

    asyncio.run(run())


def worker_settings(settings: Settings, data_dir: Path, app_id: str, **overrides: Any) -> Settings:
    """Settings of a worker (or the do-nothing agent) child process: no Redis, its own data."""
    return replace(
        settings,
        data_dir=data_dir,
        registry=data_dir / "registry",
        redis_url="",
        app_id=app_id,
        **overrides,
    )


def phase_noop(
    settings: Settings, work: Path, total: int, fixes: tuple[str, ...]
) -> dict[str, float]:
    """(a) or (n): the do-nothing agent's rate over the backlog, with these broker fixes."""
    out = work / "noop.json"
    own = worker_settings(settings, work / "noop", "bench-noop", broker_fixes=",".join(fixes))
    argv = [sys.executable, "-m", "bench.stream.noop", str(total), str(out)]
    with (work / "noop.log").open("wb") as log:
        process = subprocess.Popen(argv, env=with_env(own), stdout=log, stderr=log)
        try:
            process.wait(PHASE_TIMEOUT_S)
        finally:
            stop(process)
    if not out.exists():
        raise RuntimeError(f"do-nothing agent failed:\n{tail(work / 'noop.log')}")
    return dict(json.loads(out.read_text()))


def phase_workers(
    settings: Settings, work: Path, total: int, count: int, summaries: bool = True
) -> dict[str, float]:
    """(b), (s), (c), (t): `count` workers in one group over the backlog; footprint of the
    first."""
    name = f"w{count}{'' if summaries else '-bare'}"
    own = [
        worker_settings(settings, work / f"{name}-{n}", f"bench-{name}", item_summaries=summaries)
        for n in range(count)
    ]
    started = [start_worker(one, one.data_dir) for one in own]
    urls, data = [worker.url for worker in started], own[0].data_dir
    try:
        wait_serving(started)
        idle_rss = sum(rss_bytes(worker.process.pid) for worker in started)
        result = watch(urls, total)
        result["rss"] = sum(rss_bytes(worker.process.pid) for worker in started)
        result["rss_idle"] = idle_rss
        result["disk"] = du_bytes(data)
        result["disk_users"] = du_bytes(data, "*user_state*")
        result["disk_items"] = du_bytes(data, "*item_state*")
    finally:
        for worker in started:
            worker.stop()
    result["live_users"] = live_bytes(data, "user_state")
    result["live_items"] = live_bytes(data, "item_state")
    return result


async def paced_publish(settings: Settings, rate: float, seconds: float, users: int) -> int:
    """Publish events stamped with their send time at `rate` per second; return the count."""
    sent, tick = 0, 0.01
    async with producer(settings, linger_ms=1) as client:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            due = int((time.monotonic() - started) * rate)
            for n in range(sent, due):
                user_id = f"u{n % users}"
                event = {
                    "event_id": f"f{n}-{started}",
                    "user_id": user_id,
                    "item_id": f"i{n % 997}",
                    "type": "view",
                    "timestamp": time.time(),
                }
                await client.send("events", json.dumps(event).encode(), key=user_id.encode())
            sent = max(sent, due)
            await asyncio.sleep(tick)
        await client.flush()
    return sent


def phase_freshness(
    settings: Settings, work: Path, rate: float, seconds: float
) -> dict[str, float]:
    """(d) publish-to-applied lag at a steady `rate`, from the worker's histogram."""
    own = worker_settings(settings, work / "fresh", "bench-fresh")
    worker = start_worker(own, own.data_dir)
    url = worker.url
    try:
        wait_serving([worker])
        warm = asyncio.run(paced_publish(settings, rate, 3.0, 5000))
        while applied([url])[0] < warm:
            time.sleep(POLL_S)
        before = lag_buckets(url)
        sent = asyncio.run(paced_publish(settings, rate, seconds, 5000))
        while applied([url])[0] < warm + sent:
            time.sleep(POLL_S)
        after = lag_buckets(url)
        diff = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
        return {"p50": quantile(diff, 0.5), "p99": quantile(diff, 0.99), "events": float(sent)}
    finally:
        worker.stop()


# (a): every fix but the worker's own delivery path, so Faust delivers each message its way.
FAUST_DELIVERY_FIXES = tuple(name for name in BROKER_FIXES if name != "direct_delivery")


def main() -> None:
    """Run the selected phases on fresh brokers and print (optionally append) the figures."""
    options = parser(__doc__)
    backlog_options(options, events=300_000, users=100_000, items=20_000)
    options.add_argument(
        "--skew", type=float, default=0.0, help="Zipf exponent of user and item draws (0: uniform)"
    )
    options.add_argument("--partitions", type=int, default=8, help="partitions per keyed topic")
    options.add_argument("--rate", type=float, default=1000.0, help="events/s for freshness (d)")
    options.add_argument("--seconds", type=float, default=20.0, help="length of the (d) run")
    options.add_argument(
        "--phases", default="anbcdr", help="which of a, n, b, s, c, t, d, r to run"
    )
    options.add_argument(
        "--repeat", type=int, default=1, help="run the phases this many times (ratios: median)"
    )
    options.add_argument("--results", type=Path, help="append the Markdown figures to this file")
    args = options.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop children, remove files
    started, load_before = time.monotonic(), load_average(2)
    events = synthetic_events(args.events, args.users, args.items, args.skew)
    figures: dict[str, dict[str, float]] = {
        "load": {
            "users": len({e["user_id"] for e in events}),
            "items": len({e["item_id"] for e in events}),
        }
    }
    base = replace(Settings.from_env(), partitions=args.partitions)
    work = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        for _ in range(args.repeat):
            rounds.append(run_round(base, work, args, events))
            figures.update(rounds[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = f"{load_before} before, {load_average(2)} after"
    text = report(args, figures, load, rounds)
    print(text)
    print(f"{command()}: done in {time.monotonic() - started:.0f} s")
    if args.results:
        with args.results.open("a") as out:
            out.write("\n" + text)


def wait_serving(started: list[Worker]) -> None:
    """Wait until every worker serves /metrics; fail with its log if one exits first."""
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while not all(scrape(worker.url) for worker in started):
        for worker in started:
            if worker.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {worker.process.returncode}:\n{worker.tail()}"
                )
        if time.monotonic() > deadline:
            raise TimeoutError("workers did not start serving")
        time.sleep(POLL_S)


def run_round(
    base: Settings, root: Path, args: argparse.Namespace, events: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Every selected phase once, each on a fresh broker and in a fresh folder."""
    figures: dict[str, dict[str, float]] = {}
    work = Path(tempfile.mkdtemp(prefix="round-", dir=root))
    for phase in args.phases:
        with broker_with_topics(base, work / f"broker-{phase}.log") as (_broker, settings):
            if phase not in "dr":
                publish(settings, events)
            figures[phase] = run_phase(phase, settings, work, args)
            print(f"({phase}) {figures[phase]}", flush=True)
    return figures


def run_phase(
    phase: str, settings: Settings, work: Path, args: argparse.Namespace
) -> dict[str, float]:
    """One measurement: a, n, b, s, c, t, d or r."""
    if phase == "r":
        return phase_raw(settings, args.rate, args.seconds, paced_publish)
    if phase in "an":
        fixes = FAUST_DELIVERY_FIXES if phase == "a" else BROKER_FIXES
        return phase_noop(settings, work, args.events, fixes)
    if phase in "bsct":
        count = {"b": 1, "s": 1, "c": 2, "t": 3}[phase]
        return phase_workers(settings, work, args.events, count, summaries=phase != "s")
    return phase_freshness(settings, work, args.rate, args.seconds)


if __name__ == "__main__":
    main()
