"""Serving latency and throughput of GET /v1/recommendations against GET /health, over HTTP.

Usage: python bench/serve.py [--catalogs ml-1m,synthetic] [--duration 20] [--rate 500]

For each catalog one server process runs the real Starlette app (`api.app.create_app`) under
uvicorn on 127.0.0.1 with in-memory tables; this process drives it: a fixed rate (open loop,
latency counted from each request's scheduled time) for `--duration` seconds, then maximum
throughput of the recommendations route and of /health (wrk when installed, else a closed
loop). The Redis cache is off (no Redis configured: every lookup is a miss) and user ids
rotate over every known user. Catalogs: `ml-1m` (`streamrec datasets fetch ml-1m`, then
`streamrec train ... --ranker-users 300` unless the registry has a version) and `synthetic`
(1M items with random factors and the ML-1M ranker, written once with the registry writer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import uvicorn

from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.experiments import ExperimentStore
from api.model_holder import ModelHolder
from models.bundle import ModelBundle
from models.registry import list_versions, load_bundle
from models.retrieval import build_annoy
from models.serving import PipelineStats, PoolCache, recommend
from models.types import HistoryItem, ItemMeta, ItemSignals, UserView
from offline.etl import load_items
from offline.registry import write_version
from offline.views import meta_lookup, signals_snapshot, user_views
from streamrec.settings import Settings

HOST = "127.0.0.1"
SEED = 7
FACTORS, CONTENT_DIMS, NEXT_TOP, SYNTHETIC_TREES = 64, 16, 20, 16
SYNTHETIC_USERS, SYNTHETIC_HISTORY = 5000, 30
CHECK_USERS, MIN_RANKED, WARM_UP = 200, 300, 50


@dataclass
class World:
    """In-memory tables a server reads: user views, catalog, item signals, and the clock."""

    users: dict[str, UserView]
    meta: dict[str, ItemMeta]
    signals: dict[str, ItemSignals]
    now: float


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Options of the benchmark (and of its server mode)."""
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--catalogs", default="ml-1m,synthetic", help="comma-separated: ml-1m, synthetic (both)"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="fixed-rate seconds (20)")
    parser.add_argument("--rate", type=float, default=500.0, help="fixed rate, req/s (500)")
    parser.add_argument(
        "--max-seconds", type=float, default=10.0, help="seconds of each max-throughput run (10)"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="keep-alive client connections (32)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=settings.data_dir,
        help="datasets and bench registries (default: $STREAMREC_DATA_DIR)",
    )
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help="ML-1M registry (default: DATA_DIR/bench/registry-ml-1m)",
    )
    parser.add_argument(
        "--items", type=int, default=1_000_000, help="items of the synthetic catalog (1000000)"
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="also append the report to this Markdown file"
    )
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def ml1m_files(data_dir: Path) -> tuple[Path, Path]:
    """events.parquet and items.parquet of ML-1M, fetched when missing."""
    folder = data_dir / "datasets" / "ml-1m"
    if not (folder / "events.parquet").is_file():
        env = {**os.environ, "STREAMREC_DATA_DIR": str(data_dir)}
        subprocess.run(
            [sys.executable, "-m", "streamrec.cli.main", "datasets", "fetch", "ml-1m"],
            check=True,
            env=env,
        )
    return folder / "events.parquet", folder / "items.parquet"


def ml1m_model(args: argparse.Namespace) -> Path:
    """The newest ML-1M version of the registry, trained first when there is none."""
    registry: Path = args.registry or args.data_dir / "bench" / "registry-ml-1m"
    if not list_versions(registry):
        events, items = ml1m_files(args.data_dir)
        env = {**os.environ, "STREAMREC_REGISTRY": str(registry)}
        command = ["train", "--events", str(events), "--items", str(items), "--ranker-users", "300"]
        subprocess.run([sys.executable, "-m", "streamrec.cli.main", *command], check=True, env=env)
    return registry / list_versions(registry)[-1]


def start_server(
    args: argparse.Namespace, catalog: str, model: Path
) -> tuple[subprocess.Popen[str], int, dict[str, Any]]:
    """Start the server process; return it, its port and the pipeline check it printed."""
    command = [sys.executable, "-m", "bench.serve", "--serve", catalog, "--model", str(model)]
    command += ["--data-dir", str(args.data_dir), "--items", str(args.items)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("READY "):
            ready: dict[str, Any] = json.loads(line.removeprefix("READY "))
            return server, int(ready["port"]), ready
    raise RuntimeError(f"server for {catalog} exited with {server.wait()}")


class Connection:
    """One keep-alive HTTP/1.1 connection; `get` returns (status, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, path: str) -> tuple[int, bytes]:
        """One request and its whole answer."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"(?i)content-length: *(\d+)", head)
        body = await self.reader.readexactly(int(match.group(1)) if match else 0)
        return int(head[9:12]), body


async def _connections(port: int, count: int) -> asyncio.Queue[Connection]:
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(count):
        idle.put_nowait(Connection(*await asyncio.open_connection(HOST, port)))
    return idle


async def fixed_rate(
    port: int, paths: list[str], rate: float, seconds: float, connections: int
) -> dict[str, float]:
    """Open loop at `rate`: latency from each request's scheduled start to its last byte.

    Requests still unanswered `seconds` after the last was due are abandoned and counted at
    the latency they had reached (so an overloaded server shows, and the run stays bounded).
    """
    idle = await _connections(port, connections)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0

    async def one(path: str, scheduled: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status, _ = await connection.get(path)
            errors += status != 200
        finally:
            idle.put_nowait(connection)
        latencies.append(loop.time() - scheduled)

    start = loop.time() + 0.05
    tasks: list[tuple[float, asyncio.Task[None]]] = []
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        tasks.append((scheduled, asyncio.create_task(one(paths[n % len(paths)], scheduled))))
    await asyncio.wait([task for _, task in tasks], timeout=seconds)
    ended = loop.time()
    abandoned = [ended - scheduled for scheduled, task in tasks if not task.done()]
    for _, task in tasks:
        task.cancel()
    await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
    while not idle.empty():
        idle.get_nowait().writer.close()
    answered = len(latencies)
    p50, p95, p99 = np.percentile(np.array(latencies + abandoned) * 1000, [50, 95, 99])
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "errors": errors,
        "abandoned": len(abandoned),
        "achieved_rps": answered / (ended - start),
    }


async def warm_up(port: int, paths: list[str]) -> None:
    """First requests (the first one sweeps the catalog into pools); each page must be full."""
    connection = (await _connections(port, 1)).get_nowait()
    for path in paths:
        status, body = await connection.get(path)
        if status != 200 or len(json.loads(body)["items"]) != 10:
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")


async def closed_loop(port: int, paths: list[str], seconds: float, connections: int) -> float:
    """Requests per second with every connection sending back to back."""
    idle = await _connections(port, connections)
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done
        connection = await idle.get()
        while time.perf_counter() < stop:
            await connection.get(paths[(offset + done) % len(paths)])
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n * 97) for n in range(connections)))
    return done / (time.perf_counter() - started)


def max_throughput(
    port: int, paths: list[str], seconds: float, connections: int
) -> tuple[float, str]:
    """Requests per second at saturation: wrk with a path-rotating script, else a closed loop."""
    if shutil.which("wrk") is None:
        return asyncio.run(closed_loop(port, paths, seconds, connections)), "python closed loop"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\ncounter = 0\n")
        script.write("request = function()\n  counter = counter + 1\n")
        script.write('  return wrk.format("GET", paths[(counter % #paths) + 1])\nend\n')
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "-s", script.name]
    output = subprocess.run(
        [*command, f"http://{HOST}:{port}/"], capture_output=True, text=True, check=True
    ).stdout
    os.unlink(script.name)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None or re.search(r"Non-2xx", output):
        raise RuntimeError(f"wrk failed or saw errors:\n{output}")
    return float(match.group(1)), "wrk -t1"


def synthetic_bundle(data_dir: Path, items: int, ranker_from: Path) -> Path:
    """A registry version with `items` random-factor items and the ML-1M ranker (built once)."""
    registry = data_dir / "bench" / f"registry-synthetic-{items}"
    if list_versions(registry):
        return registry / list_versions(registry)[-1]
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    factors = (rng.normal(size=(items, FACTORS)) * 0.1).astype(np.float32)
    content = rng.normal(size=(items, CONTENT_DIMS)).astype(np.float32)
    content /= np.linalg.norm(content, axis=1, keepdims=True)
    ids = np.array([f"i{n}" for n in range(items)])
    users = np.array([f"s{n}" for n in range(SYNTHETIC_USERS)])
    bundle = ModelBundle(
        version="",
        item_ids=ids,
        user_ids=users,
        item_factors=factors,
        user_factors=(rng.normal(size=(len(users), FACTORS)) * 0.1).astype(np.float32),
        regularization=0.05,
        alpha=2.0,
        popularity=rng.zipf(1.3, items).clip(max=1e6).astype(np.float32),
        next_items=rng.integers(0, items, size=(items, NEXT_TOP)),
        next_scores=np.sort(rng.random((items, NEXT_TOP)), axis=1)[:, ::-1].astype(np.float32),
        content_ids=ids,
        content_vectors=content,
        als_retriever=build_annoy(factors, "dot", SYNTHETIC_TREES, SEED),
        content_retriever=build_annoy(content, "angular", SYNTHETIC_TREES, SEED),
        ranker=load_bundle(ranker_from).ranker,
        manifest={"synthetic": {"items": items, "seed": SEED, "trees": SYNTHETIC_TREES}},
    )
    version = write_version(registry, bundle)
    print(f"synthetic bundle: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return registry / version


def _ml1m_world(data_dir: Path, bundle: ModelBundle) -> World:
    events_path, items_path = ml1m_files(data_dir)
    events = pl.read_parquet(events_path)
    meta = meta_lookup(load_items(items_path))
    now = float(events["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    users = sorted(events["user_id"].unique().to_list())
    views = user_views(events, users, now, meta, bundle.weighting, Settings().history_size)
    return World(views, meta, signals_snapshot(events, now), now)


def _synthetic_world(bundle: ModelBundle, items: int) -> World:
    rng = np.random.default_rng(SEED + 1)
    now = 1_700_000_000.0
    names = bundle.item_names
    meta = {
        name: ItemMeta(name, name, f"c{n % 40}", (f"c{n % 40}",), float(n % 97), True, now - n)
        for n, name in enumerate(names)
    }
    live = rng.choice(items, size=items // 5, replace=False)
    signals = {
        names[r]: ItemSignals(
            names[r], events_all=int(c), impressions=float(c % 90), last_event_at=now - c
        )
        for r, c in zip(live.tolist(), rng.integers(1, 5000, len(live)).tolist(), strict=True)
    }
    popular = bundle.by_popularity[: items // 10]
    views = {}
    for user in bundle.user_ids.tolist():
        rows = rng.choice(popular, size=SYNTHETIC_HISTORY)
        history = tuple(
            HistoryItem(names[r], "view", now - 60.0 * k) for k, r in enumerate(rows.tolist())
        )
        views[str(user)] = UserView(str(user), history=history)
    return World(views, meta, signals, now)


async def _discard(topic: str, key: str | None, value: bytes | None) -> None:
    """The impression producer: records are built and serialised, then dropped."""


def _check_pipeline(bundle: ModelBundle, world: World, users: list[str]) -> dict[str, float]:
    """Run the pipeline in-process for a sample of users; every one must rank >= MIN_RANKED."""
    pools = PoolCache(world.meta.values, world.signals.get, 500).get()
    ranked: list[int] = []
    started = time.perf_counter()
    for user_id in users[:CHECK_USERS]:
        stats = PipelineStats()
        recommend(
            bundle,
            world.users[user_id],
            world.signals.get,
            world.meta.get,
            count=10,
            now=world.now,
            rng=random.Random(0),
            pools=pools,
            stats=stats,
        )
        ranked.append(stats.ranked)
    took = (time.perf_counter() - started) / len(ranked) * 1000
    if min(ranked) < MIN_RANKED:
        raise SystemExit(f"only {min(ranked)} candidates ranked for one user (< {MIN_RANKED})")
    return {"ranked_min": min(ranked), "ranked_mean": float(np.mean(ranked)), "pipeline_ms": took}


def serve(catalog: str, model: Path, data_dir: Path, items: int) -> int:
    """Server mode: build the world, check the pipeline, print READY, run uvicorn."""
    bundle = load_bundle(model)
    world = _ml1m_world(data_dir, bundle) if catalog == "ml-1m" else _synthetic_world(bundle, items)
    holder = ModelHolder(lambda version: bundle)
    holder.swap(bundle, bundle.version)
    deps = ServingDeps(
        settings=Settings(redis_url=""),
        users=world.users.get,
        signals=world.signals.get,
        meta=world.meta.get,
        catalog_items=world.meta.values,
        publish=_discard,
        models=holder,
        experiments=ExperimentStore(None),
        rate_limit=RateLimitPolicy(burst=10**9, per_second=1e9),
        clock=lambda: world.now,
    )
    users = sorted(world.users)
    check = _check_pipeline(bundle, world, users)
    listener = socket.create_server((HOST, 0))
    ready = {
        "port": listener.getsockname()[1],
        "users": users,
        "users_total": len(users),
        "items": len(world.meta),
        **check,
    }
    print("READY " + json.dumps(ready), flush=True)
    config = uvicorn.Config(create_app(deps), log_level="warning", access_log=False)
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))
    return 0


def bench_catalog(args: argparse.Namespace, catalog: str) -> dict[str, Any]:
    """Fixed rate and max throughput for one catalog's server."""
    model = (
        ml1m_model(args)
        if catalog == "ml-1m"
        else synthetic_bundle(args.data_dir, args.items, ml1m_model(args))
    )
    server, port, ready = start_server(args, catalog, model)
    try:
        users = ready["users"]
        random.Random(0).shuffle(users)
        recs = [f"/v1/recommendations?user_id={u}&count=10" for u in users]
        asyncio.run(warm_up(port, recs[:WARM_UP]))
        load_before = os.getloadavg()
        fixed = asyncio.run(fixed_rate(port, recs, args.rate, args.duration, args.connections))
        health_fixed = asyncio.run(
            fixed_rate(port, ["/health"], args.rate, min(args.duration, 10.0), args.connections)
        )
        rec_max, tool = max_throughput(port, recs, args.max_seconds, args.connections)
        health_max, _ = max_throughput(port, ["/health"], args.max_seconds, args.connections)
        half = asyncio.run(fixed_rate(port, recs, rec_max / 2, args.max_seconds, args.connections))
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait()
    return {
        "catalog": catalog,
        "ready": {k: v for k, v in ready.items() if k != "users"},
        "fixed": fixed,
        "health_fixed": health_fixed,
        "rec_max_rps": rec_max,
        "health_max_rps": health_max,
        "ratio": rec_max / health_max,
        "tool": tool,
        "load": [load_before, load_after],
        "seconds": args.duration,
        "half_capacity": half,
        "connections": args.connections,
    }


def report(result: dict[str, Any], rate: float) -> str:
    """Markdown lines for one catalog."""
    fixed, health, ready = result["fixed"], result["health_fixed"], result["ready"]
    half = result["half_capacity"]
    held = fixed["p99_ms"] < 10.0 and fixed["errors"] == fixed["abandoned"] == 0
    loads = [" ".join(f"{x:.2f}" for x in load) for load in result["load"]]
    return "\n".join(
        [
            f"- **{result['catalog']}**: {ready['items']} items, {ready['users_total']} users; "
            f"candidates ranked per request min {ready['ranked_min']}, "
            f"mean {ready['ranked_mean']:.0f}; in-process pipeline {ready['pipeline_ms']:.2f} ms",
            f"  - recommendations at {rate:.0f} req/s for {result['seconds']:.0f} s: "
            f"p50 {fixed['p50_ms']:.2f} ms, p95 {fixed['p95_ms']:.2f} ms, "
            f"p99 {fixed['p99_ms']:.2f} ms (answered {fixed['achieved_rps']:.0f} req/s, "
            f"{fixed['errors']} errors, {fixed['abandoned']} abandoned): "
            f"p99 < 10 ms {'held' if held else 'NOT held'}",
            f"  - recommendations at half the max ({result['rec_max_rps'] / 2:.0f} req/s): "
            f"p50 {half['p50_ms']:.2f} ms, p95 {half['p95_ms']:.2f} ms, "
            f"p99 {half['p99_ms']:.2f} ms",
            f"  - /health at {rate:.0f} req/s: p50 {health['p50_ms']:.2f} ms, "
            f"p95 {health['p95_ms']:.2f} ms, p99 {health['p99_ms']:.2f} ms",
            f"  - max throughput ({result['tool']}, {result['connections']} connections): "
            f"recommendations {result['rec_max_rps']:.0f} req/s, /health "
            f"{result['health_max_rps']:.0f} req/s, ratio {result['ratio']:.3f} (target >= 0.25)",
            f"  - load average (1, 5, 15 min) before: {loads[0]}; after: {loads[1]}",
        ]
    )


def main(argv: Sequence[str]) -> int:
    """Run every catalog, print the report, optionally append it to RESULTS.md."""
    args = parse(argv)
    if args.serve:
        return serve(args.serve, args.model, args.data_dir, args.items)
    started = time.perf_counter()
    results = []
    for catalog in args.catalogs.split(","):
        results.append(bench_catalog(args, catalog))
        print(json.dumps(results[-1], default=float), file=sys.stderr)
    text = "\n".join(report(result, args.rate) for result in results)
    print(text)
    print(f"bench/serve.py took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.results is not None:
        header = f"\n## Serving latency ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n\n"
        with args.results.open("a") as handle:
            handle.write(header + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
