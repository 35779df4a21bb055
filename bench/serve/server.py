"""The server process of bench/serve/throughput.py: one catalog's world behind the worker's API.

It runs the real Starlette app (`api.app.create_app`) under uvicorn with the worker's server
configuration (`api.server.server_config`: its HTTP parser and read limits) on in-memory
tables, checks the pipeline in-process first, then prints `READY {json}` and serves. With a
Redis URL the page cache and the rate limits live in Redis, as in a worker configured with it.
`launch` starts such a process (of this tree or an older one) and waits for its READY line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn

from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.model_holder import ModelHolder
from api.redis_guard import redis_client
from api.server import server_config
from bench.serve.world import World, ml1m_world, synthetic_world
from models.bundle import ModelBundle
from models.registry import load_bundle
from models.serving import CANDIDATE_LIMIT, PipelineStats, build_pools, hydrate, recommend
from streamrec.settings import Settings

HOST = "127.0.0.1"
CHECK_USERS, MIN_RANKED = 200, 300


async def _discard(topic: str, key: str | None, value: bytes | None) -> None:
    """The impression producer: records are built and serialised, then dropped."""


def check_pipeline(bundle: ModelBundle, world: World, users: list[str]) -> dict[str, float]:
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


CACHED_PAGE_TTL_S = 3600.0
"""How long the benchmark's cached pages live: the whole run (the served default, 30 s, would
expire the pages filled before the cached runs while they run, and compute them again)."""


def serve(catalog: str, model: Path, data_dir: Path, items: int, redis_url: str) -> int:
    """Build the world, check the pipeline, print READY, serve until terminated."""
    bundle = load_bundle(model)
    world = ml1m_world(data_dir, bundle) if catalog == "ml-1m" else synthetic_world(bundle, items)
    holder = ModelHolder(lambda version: bundle)
    holder.swap(bundle, bundle.version)
    settings = Settings(redis_url=redis_url, cache_ttl_s=CACHED_PAGE_TTL_S)
    deps = ServingDeps(
        settings=settings,
        users=world.users.get,
        signals=world.signals.get,
        meta=world.meta.get,
        catalog_items=world.meta.values,
        publish=_discard,
        models=holder,
        redis=redis_client(settings),
        rate_limit=RateLimitPolicy(burst=10**9, per_second=1e9),
        clock=lambda: world.now,
    )
    users = sorted(world.users)
    check = check_pipeline(bundle, world, users)
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
    config = server_config(create_app(deps), settings, access_log=False)
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))
    return 0


def launch(
    command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start a server process; return it and the JSON of its READY line."""
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=cwd, env=env)
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("READY "):
            ready: dict[str, Any] = json.loads(line.removeprefix("READY "))
            return server, ready
    raise RuntimeError(f"server {command} exited with {server.wait()}")
