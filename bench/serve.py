"""Serving latency and throughput of GET /v1/recommendations against GET /health, over HTTP.

Usage: python -m bench.serve [--catalogs ml-1m,synthetic] [--duration 20] [--rate 500]

For each catalog one server process runs the real Starlette app (`api.app.create_app`) under
uvicorn on 127.0.0.1 with in-memory tables; this process drives it: a fixed rate (open loop,
latency counted from each request's scheduled time) for `--duration` seconds, then maximum
throughput of the recommendations route and of /health (wrk when installed, else a closed
loop). The Redis cache is off (no Redis configured: every lookup is a miss) and user ids
rotate over every known user. After the fixed-rate run the server may still hold requests the
run abandoned: the next phase starts once /health answers quickly again. Catalogs: `ml-1m`
(`streamrec datasets fetch ml-1m`, then `streamrec train ... --ranker-users 300` unless the
registry has a version) and `synthetic`
(1M items with random factors and the ML-1M ranker, written once with the registry writer);
see bench/serve_world.py. The HTTP load itself is in bench/serve_load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn

from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.model_holder import ModelHolder
from bench.serve_load import HOST, drain, fixed_rate, max_throughput, warm_up
from bench.serve_world import World, ml1m_model, ml1m_world, synthetic_bundle, synthetic_world
from models.bundle import ModelBundle
from models.registry import load_bundle
from models.serving import CANDIDATE_LIMIT, PipelineStats, build_pools, hydrate, recommend
from streamrec.settings import Settings

CHECK_USERS, MIN_RANKED, WARM_UP = 200, 300, 50


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


async def _discard(topic: str, key: str | None, value: bytes | None) -> None:
    """The impression producer: records are built and serialised, then dropped."""


def _check_pipeline(bundle: ModelBundle, world: World, users: list[str]) -> dict[str, float]:
    """Run the pipeline in-process for a sample of users; every one must rank >= MIN_RANKED."""
    pools = build_pools(world.meta.values(), world.signals.get, CANDIDATE_LIMIT)
    ranked: list[int] = []
    started, cpu = time.perf_counter(), time.thread_time()
    for user_id in users[:CHECK_USERS]:
        stats = PipelineStats()
        ctx = hydrate(
            bundle,
            world.users[user_id],
            world.signals.get,
            world.meta.get,
            now=world.now,
            rng=random.Random(0),
            pools=pools,
        )
        recommend(ctx, stats)
        ranked.append(stats.ranked)
    took = (time.perf_counter() - started) / len(ranked) * 1000
    cpu_ms = (time.thread_time() - cpu) / len(ranked) * 1000
    if min(ranked) < MIN_RANKED:
        raise SystemExit(f"only {min(ranked)} candidates ranked for one user (< {MIN_RANKED})")
    return {
        "ranked_min": min(ranked),
        "ranked_mean": float(np.mean(ranked)),
        "pipeline_ms": took,
        "pipeline_cpu_ms": cpu_ms,
    }


def serve(catalog: str, model: Path, data_dir: Path, items: int) -> int:
    """Server mode: build the world, check the pipeline, print READY, run uvicorn."""
    bundle = load_bundle(model)
    world = ml1m_world(data_dir, bundle) if catalog == "ml-1m" else synthetic_world(bundle, items)
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
    gc.freeze()  # as the worker does after loading a model: the world and bundle stay put
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
        drained = asyncio.run(drain(port))
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
        "drained_s": drained,
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
            f"mean {ready['ranked_mean']:.0f}; in-process pipeline {ready['pipeline_ms']:.2f} ms "
            f"wall, {ready['pipeline_cpu_ms']:.2f} ms CPU",
            f"  - recommendations at {rate:.0f} req/s for {result['seconds']:.0f} s: "
            f"p50 {fixed['p50_ms']:.2f} ms, p95 {fixed['p95_ms']:.2f} ms, "
            f"p99 {fixed['p99_ms']:.2f} ms (answered {fixed['achieved_rps']:.0f} req/s, "
            f"{fixed['errors']} errors, {fixed['abandoned']} abandoned): "
            f"p99 < 10 ms {'held' if held else 'NOT held'}; "
            f"server drained its backlog in {result['drained_s']:.1f} s",
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
