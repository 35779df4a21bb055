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
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.stream.events import synthetic_events  # noqa: E402
from bench.stream.probe import (  # noqa: E402
    PHASE_TIMEOUT_S,
    POLL_S,
    applied,
    du_bytes,
    lag_buckets,
    live_bytes,
    quantile,
    rss_bytes,
    scrape,
    tail,
    watch,
)
from bench.stream.raw import phase_raw  # noqa: E402
from bench.stream.report import loadavg, report  # noqa: E402
from cli.embedded_broker import EmbeddedBroker, free_port, start_broker  # noqa: E402
from streamrec.kafka import producer, send_all  # noqa: E402
from streamrec.settings import BROKER_FIXES, Settings  # noqa: E402
from streamrec.topics import ensure_topics  # noqa: E402


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


def child_env(
    settings: Settings, data_dir: Path, port: int, app_id: str, summaries: bool = True
) -> dict[str, str]:
    """Environment of a worker (or the do-nothing agent) child process."""
    return {
        "STREAMREC_ITEM_SUMMARIES": "on" if summaries else "off",
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
    settings: Settings, data_dir: Path, app_id: str, summaries: bool = True
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `streamrec worker`; return the process and its base URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (data_dir.parent / f"{data_dir.name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker", "-l", "info"],
        env=child_env(settings, data_dir, port, app_id, summaries),
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


def phase_noop(
    settings: Settings, work: Path, total: int, fixes: tuple[str, ...]
) -> dict[str, float]:
    """(a) or (n): the do-nothing agent's rate over the backlog, with these broker fixes."""
    out = work / "noop.json"
    env = child_env(settings, work / "noop", free_port(), "bench-noop")
    env["STREAMREC_BROKER_FIXES"] = ",".join(fixes)
    command = [sys.executable, "-m", "bench.stream.noop", str(total), str(out)]
    with (work / "noop.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
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
    started = [
        start_worker(settings, work / f"{name}-{n}", f"bench-{name}", summaries)
        for n in range(count)
    ]
    urls, data = [url for _, url in started], work / f"{name}-0"
    try:
        wait_serving(started)
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
        wait_serving([(process, url)])
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


# (a): every fix but the worker's own delivery path, so Faust delivers each message its way.
FAUST_DELIVERY_FIXES = tuple(name for name in BROKER_FIXES if name != "direct_delivery")


def main() -> None:
    """Run the selected phases on fresh brokers and print (optionally append) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000, help="backlog size")
    parser.add_argument("--users", type=int, default=100_000, help="distinct user ids drawn from")
    parser.add_argument("--items", type=int, default=20_000, help="distinct item ids drawn from")
    parser.add_argument(
        "--skew", type=float, default=0.0, help="Zipf exponent of user and item draws (0: uniform)"
    )
    parser.add_argument("--partitions", type=int, default=8, help="partitions per keyed topic")
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s for freshness (d)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the (d) run")
    parser.add_argument("--phases", default="anbcdr", help="which of a, n, b, s, c, t, d, r to run")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the phases this many times (ratios: median)"
    )
    parser.add_argument("--results", type=Path, help="append the Markdown figures to this file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop children, remove files
    started, load_before = time.monotonic(), loadavg()
    events = synthetic_events(args.events, args.users, args.items, args.skew)
    figures: dict[str, dict[str, float]] = {
        "load": {
            "users": len({e["user_id"] for e in events}),
            "items": len({e["item_id"] for e in events}),
        }
    }
    base = Settings(partitions=args.partitions)
    work = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        for _ in range(args.repeat):
            rounds.append(run_round(base, work, args, events))
            figures.update(rounds[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = f"{load_before} before, {loadavg()} after"
    text = report(args, figures, load, rounds)
    print(text)
    print(f"bench/stream/throughput.py done in {time.monotonic() - started:.0f} s")
    if args.results:
        with args.results.open("a") as out:
            out.write("\n" + text)


def wait_serving(started: list[tuple[subprocess.Popen[bytes], str]]) -> None:
    """Wait until every worker serves /metrics; fail with its log if one exits first."""
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while not all(scrape(url) for _, url in started):
        for process, _ in started:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with {process.returncode}: {process.args}")
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
        broker, settings = fresh_broker(base, work, phase)
        try:
            if phase not in "dr":
                publish(settings, events)
            figures[phase] = run_phase(phase, settings, work, args)
            print(f"({phase}) {figures[phase]}", flush=True)
        finally:
            broker.stop()
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
