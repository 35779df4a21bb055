"""Worker throughput, freshness and footprint on the embedded broker, all in one run.

Run: python bench/stream.py [--events 300000] [--users 100000] [--items 20000] [--results FILE]
Measures (a) a do-nothing Faust agent on `events` (same settings and fixes as the worker),
(b) one `streamrec worker` folding the same backlog into every table, (c) two workers in one
group, (d) publish-to-applied freshness at a steady rate, (e) RocksDB size and worker RSS.
Each phase gets a fresh embedded broker (internal topics are not namespaced by app id).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamrec.broker import EmbeddedBroker, free_port, start_broker  # noqa: E402
from streamrec.kafka import producer, send_all  # noqa: E402
from streamrec.settings import Settings  # noqa: E402
from streamrec.topics import ensure_topics  # noqa: E402

TYPES = ("view", "click", "add_to_cart", "purchase", "rating")
TYPE_WEIGHTS = (60, 25, 8, 4, 3)
START = 1_700_000_000.0
POLL_S = 0.5
PHASE_TIMEOUT_S = 900.0
BATCH = 1000


def synthetic_events(count: int, users: int, items: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` valid events over `users` users and `items` items, ten per event-time second."""
    rng = random.Random(seed)
    types = rng.choices(TYPES, weights=TYPE_WEIGHTS, k=count)
    return [
        {
            "event_id": f"b{n}",
            "user_id": f"u{rng.randrange(users)}",
            "item_id": f"i{rng.randrange(items)}",
            "type": kind,
            "timestamp": START + n / 10,
            **({"value": float(rng.randint(1, 5))} if kind == "rating" else {}),
        }
        for n, kind in enumerate(types)
    ]


def publish(settings: Settings, events: list[dict[str, Any]], rate: float | None = None) -> None:
    """Produce events keyed by user (blocking, waits for acks)."""
    keys = [event["user_id"].encode() for event in events]
    values = [json.dumps(event).encode() for event in events]

    async def run() -> None:
        async with producer(settings, linger_ms=5 if rate else 20) as client:
            await send_all(client, "events", keys, values, progress=rate is None, rate=rate)

    asyncio.run(run())


def fresh_broker(settings: Settings, work: Path, name: str) -> tuple[EmbeddedBroker, Settings]:
    """A new broker with streamrec's topics, and settings that reach it."""
    broker = start_broker(log_file=work / f"broker-{name}.log")
    own = replace(settings, broker=broker.url)
    asyncio.run(ensure_topics(own))
    return broker, own


def child_env(settings: Settings, data_dir: Path, port: int, app_id: str) -> dict[str, str]:
    """Environment of a worker (or the do-nothing agent) child process."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STREAMREC_BROKER": settings.broker,
        "STREAMREC_PARTITIONS": str(settings.partitions),
        "STREAMREC_DATA_DIR": str(data_dir),
        "STREAMREC_REGISTRY": str(data_dir / "registry"),
        "STREAMREC_REDIS_URL": "",
        "STREAMREC_APP_ID": app_id,
        "STREAMREC_API_PORT": str(port),
    }


def start_worker(
    settings: Settings, data_dir: Path, app_id: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `streamrec worker`; return the process and its base URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (data_dir.parent / f"{data_dir.name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamrec.cli.main", "worker", "-l", "info"],
        env=child_env(settings, data_dir, port, app_id),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def scrape(url: str) -> str:
    """The worker's /metrics text ("" while it is not serving)."""
    try:
        return httpx.get(f"{url}/metrics", timeout=2).text
    except httpx.HTTPError:
        return ""


def counter(text: str, name: str, topic: str) -> float:
    """Sum of a counter's samples whose `topic` label is `topic`."""
    pattern = rf'^{name}{{[^}}]*topic="{re.escape(topic)}"[^}}]*}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.M))


def applied(urls: list[str]) -> tuple[float, float]:
    """Events applied to user state and to item state, summed over workers."""
    texts = [scrape(url) for url in urls]
    name = "streamrec_events_processed_total"
    return sum(counter(t, name, "events") for t in texts), sum(
        counter(t, name, "item-signals") for t in texts
    )


def watch(urls: list[str], total: int) -> dict[str, float]:
    """Poll until user and item tables applied `total` events; rate from the first progress."""
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    first: tuple[float, float] | None = None
    while time.monotonic() < deadline:
        users, items = applied(urls)
        now = time.monotonic()
        if first is None and users > 0:
            first = (now, users)
        if users >= total and items >= total and first is not None:
            return {
                "events_per_s": (total - first[1]) / (now - first[0]),
                "seconds": now - first[0],
            }
        time.sleep(POLL_S)
    raise TimeoutError(f"tables applied {applied(urls)} of {total} events")


def tail(log: Path, lines: int = 30) -> str:
    """The end of a child's log."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def rss_bytes(pid: int) -> int:
    """Resident set size of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def du_bytes(path: Path, pattern: str = "*") -> int:
    """Disk blocks (as du counts them) of the files under the folders matching `pattern`."""
    total = 0
    for folder in path.rglob(pattern):
        files = folder.rglob("*") if folder.is_dir() else [folder]
        total += sum(file.stat().st_blocks * 512 for file in files if file.is_file())
    return total


def live_bytes(path: Path, table: str) -> int:
    """Bytes of the keys and values a stopped worker's table holds (no WAL, no old versions)."""
    from rocksdict import AccessType, Options, Rdict

    total = 0
    for folder in path.rglob(f"{table}-*.db"):
        db = Rdict(str(folder), Options(raw_mode=True), access_type=AccessType.read_only())
        pairs: Iterable[tuple[Any, Any]] = db.items()
        total += sum(len(key) + len(value) for key, value in pairs)
        db.close()
    return total


def run_noop_agent(expected: int, out: Path) -> None:
    """Child process: a Faust agent that only counts `events`, with the worker's settings."""
    import faust

    from agents import workarounds

    settings = Settings.from_env()
    workarounds.apply(settings)
    # The same consumer and producer knobs as agents/app.py: create_app, without tables.
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        store="memory://",
        topic_partitions=settings.partitions,
        broker_session_timeout=2.0,
        broker_heartbeat_interval=0.3,
        broker_rebalance_timeout=2.0,
        broker_request_timeout=30.0,
        consumer_auto_offset_reset="earliest",
        producer_linger=0.005,
        stream_buffer_maxsize=8192,
        web_enabled=False,
        autodiscover=False,
    )
    topic = app.topic("events", key_type=str, value_serializer="raw")
    seen = {"count": 0, "first": 0.0, "first_batch": 0}

    @app.agent(topic)
    async def do_nothing(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=0.005):
            if not seen["count"]:
                seen["first"], seen["first_batch"] = time.monotonic(), len(batch)
            seen["count"] += len(batch)
            if seen["count"] >= expected:
                elapsed = time.monotonic() - seen["first"]
                rate = (seen["count"] - seen["first_batch"]) / elapsed
                out.write_text(json.dumps({"events_per_s": rate, "seconds": elapsed}))
                os._exit(0)

    sys.argv = ["noop", "worker", "-l", "info", "--without-web"]
    app.main()


def phase_noop(settings: Settings, work: Path, total: int) -> dict[str, float]:
    """(a) the do-nothing agent's rate over the backlog."""
    out = work / "noop.json"
    env = child_env(settings, work / "noop", free_port(), "bench-noop")
    command = [sys.executable, __file__, "--noop-child", str(total), str(out)]
    with (work / "noop.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            process.wait(PHASE_TIMEOUT_S)
        finally:
            stop(process)
    if not out.exists():
        raise RuntimeError(f"do-nothing agent failed:\n{tail(work / 'noop.log')}")
    return dict(json.loads(out.read_text()))


def phase_workers(settings: Settings, work: Path, total: int, count: int) -> dict[str, float]:
    """(b)/(c) `count` workers in one group over the backlog; footprint when there is one."""
    started = [
        start_worker(settings, work / f"w{count}-{n}", f"bench-{count}w") for n in range(count)
    ]
    urls, data = [url for _, url in started], work / f"w{count}-0"
    try:
        while not all(scrape(url) for url in urls):
            time.sleep(POLL_S)
        idle_rss = sum(rss_bytes(process.pid) for process, _ in started)
        result = watch(urls, total)
        result["rss"] = sum(rss_bytes(process.pid) for process, _ in started)
        result["rss_idle"] = idle_rss
        result["disk"] = du_bytes(data)
        result["disk_users"] = du_bytes(data, "*user_state*")
        result["disk_items"] = du_bytes(data, "*item_state*")
    finally:
        for process, _ in started:
            stop(process)
    result["live_users"] = live_bytes(data, "user_state")
    result["live_items"] = live_bytes(data, "item_state")
    return result


def lag_buckets(url: str) -> dict[float, float]:
    """Cumulative counts of the worker's apply-lag histogram, by upper bound."""
    name = "streamrec_event_apply_lag_seconds_bucket"
    found = re.findall(rf'^{name}{{le="([^"]+)"}} (\S+)$', scrape(url), re.M)
    return {float(bound): float(count) for bound, count in found}


def quantile(buckets: dict[float, float], q: float) -> float:
    """The q-quantile of a cumulative histogram, interpolated linearly inside its bucket."""
    bounds = sorted(buckets)
    target = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= target:
            if bound == float("inf"):
                return lower
            share = (target - below) / max(buckets[bound] - below, 1e-9)
            return lower + share * (bound - lower)
        lower, below = bound, buckets[bound]
    return lower


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
    process, url = start_worker(settings, work / "fresh", "bench-fresh")
    try:
        while not scrape(url):
            time.sleep(POLL_S)
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
        stop(process)


def report(args: argparse.Namespace, figures: dict[str, dict[str, float]], load: str) -> str:
    """The Markdown section of the figures, with date, command, machine and load."""
    users, items = figures["load"]["users"], figures["load"]["items"]
    lines = [
        f"## Worker stream throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `python bench/stream.py {' '.join(sys.argv[1:])}`  ",
        f"Machine: 2 cores, 24 GiB, no GPU; load average {load}.  ",
        f"Backlog: {args.events:,} events over {users:,.0f} users and {items:,.0f} items, "
        f"{args.partitions} partitions, embedded broker (Tansu) on the same machine.",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    noop, one, two = figures.get("a"), figures.get("b"), figures.get("c")
    if noop:
        lines.append(f"| (a) do-nothing Faust agent | {noop['events_per_s']:,.0f} events/s |")
    if one:
        lines.append(f"| (b) one worker, every table | {one['events_per_s']:,.0f} events/s |")
    if noop and one:
        lines.append(f"| (b)/(a) | {one['events_per_s'] / noop['events_per_s']:.2f} |")
    if two:
        lines.append(f"| (c) two workers, combined | {two['events_per_s']:,.0f} events/s |")
    if fresh := figures.get("d"):
        lines.append(
            f"| (d) freshness at {args.rate:,.0f} events/s, publish to applied | "
            f"p50 {fresh['p50'] * 1000:.1f} ms, p99 {fresh['p99'] * 1000:.1f} ms |"
        )
    if one:
        mib = 1024 * 1024
        lines += [
            f"| (e) RocksDB, whole data dir | {one['disk'] / mib:,.0f} MiB |",
            f"| (e) user_state per 1M users | {one['disk_users'] / users * 1e6 / mib:,.0f} MiB |",
            f"| (e) item_state per 100k items | {one['disk_items'] / items * 1e5 / mib:,.0f} MiB |",
            f"| (e) live user_state data per 1M users | "
            f"{one['live_users'] / users * 1e6 / mib:,.0f} MiB |",
            f"| (e) live item_state data per 100k items | "
            f"{one['live_items'] / items * 1e5 / mib:,.0f} MiB |",
            f"| (e) worker RSS idle / after the backlog | "
            f"{one['rss_idle'] / mib:,.0f} / {one['rss'] / mib:,.0f} MiB |",
            f"| (e) RSS growth per 1M users | "
            f"{(one['rss'] - one['rss_idle']) / users * 1e6 / mib:,.0f} MiB |",
        ]
    lines += [
        "",
        "Sizes per 1M users and per 100k items are linear extrapolations of what the backlog "
        "loaded: on disk is du of the table folders (write-ahead logs and not yet compacted "
        "versions included), live data is the bytes of the keys and values the tables hold; "
        "RSS growth counts every table and cache.",
        "",
    ]
    return "\n".join(lines)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    """Run the selected phases on fresh brokers and print (optionally append) the figures."""
    if len(sys.argv) == 4 and sys.argv[1] == "--noop-child":
        run_noop_agent(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000, help="backlog size")
    parser.add_argument("--users", type=int, default=100_000, help="distinct user ids drawn from")
    parser.add_argument("--items", type=int, default=20_000, help="distinct item ids drawn from")
    parser.add_argument("--partitions", type=int, default=8, help="partitions per keyed topic")
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s for freshness (d)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the (d) run")
    parser.add_argument("--phases", default="abcd", help="which of a, b, c, d to run")
    parser.add_argument("--results", type=Path, help="append the Markdown figures to this file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop children, remove files
    started, load_before = time.monotonic(), loadavg()
    events = synthetic_events(args.events, args.users, args.items)
    figures: dict[str, dict[str, float]] = {
        "load": {
            "users": len({e["user_id"] for e in events}),
            "items": len({e["item_id"] for e in events}),
        }
    }
    base = Settings(partitions=args.partitions)
    work = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    try:
        for phase in args.phases:
            broker, settings = fresh_broker(base, work, phase)
            try:
                if phase != "d":
                    publish(settings, events)
                figures[phase] = run_phase(phase, settings, work, args)
                print(f"({phase}) {figures[phase]}", flush=True)
            finally:
                broker.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = f"{load_before} before, {loadavg()} after"
    text = report(args, figures, load)
    print(text)
    print(f"bench/stream.py done in {time.monotonic() - started:.0f} s")
    if args.results:
        with args.results.open("a") as out:
            out.write("\n" + text)


def run_phase(
    phase: str, settings: Settings, work: Path, args: argparse.Namespace
) -> dict[str, float]:
    """One measurement: a, b, c or d."""
    if phase == "a":
        return phase_noop(settings, work, args.events)
    if phase in "bc":
        return phase_workers(settings, work, args.events, 1 if phase == "b" else 2)
    return phase_freshness(settings, work, args.rate, args.seconds)


if __name__ == "__main__":
    main()
