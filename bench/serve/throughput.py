"""Serving throughput and latency of GET /v1/recommendations against GET /health, over HTTP.

Usage: python -m bench.serve.throughput [--catalogs ml-1m,synthetic] [--caches off,on]
       [--seconds 10]

For each catalog and cache mode one server process (bench/serve/server.py) serves the worker's
API on in-memory tables. In the same run: `wrk -t1` saturates the recommendations route (user
ids rotating over every user), then /health; `wrk -t1` paced to a fixed rate (a Lua delay per
request) then asks for pages at half the recommendations' maximum, counting requests it could
only send late because every connection was busy. `wrk` is installed with apt-get when
missing (as root). With the cache off (no Redis) every page is computed; with it on (Redis at
--redis) the pages of --cached-users users are asked for once beforehand, so the saturated run
reads cached pages.
The stage histograms of /metrics, scraped around the saturated run, give the time of each
pipeline stage of a computed page. Catalogs: `ml-1m` (trained once into DATA_DIR/bench) and
`synthetic` (1M items); see bench/serve/world.py. With --flame DIR, a further saturated run
(after the measured ones, so they carry no profiler) is sampled by py-spy into
DIR/CATALOG-cache-MODE.svg (py-spy is pip-installed into this interpreter's environment when
missing). With --baseline-commit SHA (or --baseline-tree PATH) the run compares instead: this
tree's server and the older tree's, ML-1M with the cache off, --rounds turns each of wrk on the
recommendations and on /health, with the servers' CPU per request (bench/serve/baseline.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common.metrics import by_label, histogram_totals
from bench.common.proc import stop
from bench.common.report import command, load_average, parser
from bench.serve.baseline import compare
from bench.serve.load import (
    drain,
    ensure_wrk,
    page_paths,
    scrape,
    warm_up,
    wrk,
    wrk_paced,
)
from bench.serve.server import launch, serve
from bench.serve.world import ml1m_model, synthetic_bundle
from models.pipeline import STEPS
from streamrec.settings import Settings

WARM_UP = 50
RATIO_TARGET, HALF_P99_TARGET_MS = 0.25, 10.0
LATE_SHARE = 0.01
"""Largest share of the half-rate run's requests that may leave late for its p99 to count."""


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Options of the benchmark (and of its server mode)."""
    settings = Settings.from_env()
    options = parser(__doc__)
    options.add_argument("--catalogs", default="ml-1m,synthetic", help="ml-1m, synthetic (both)")
    options.add_argument("--caches", default="off,on", help="off, on: the Redis page cache (both)")
    options.add_argument("--seconds", type=float, default=10.0, help="seconds of each run (10)")
    options.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    options.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis of cache on")
    options.add_argument(
        "--cached-users", type=int, default=1000, help="users whose pages are cached first (1000)"
    )
    options.add_argument(
        "--data-dir", type=Path, default=settings.data_dir, help="default: $STREAMREC_DATA_DIR"
    )
    options.add_argument("--registry", type=Path, default=None, help="ML-1M registry")
    options.add_argument("--items", type=int, default=1_000_000, help="synthetic items (1000000)")
    options.add_argument("--flame", type=Path, default=None, help="py-spy SVGs into this folder")
    options.add_argument(
        "--baseline-commit", default=None, help="compare with this commit's server (see below)"
    )
    options.add_argument(
        "--baseline-tree", type=Path, default=None, help="compare with the server of this checkout"
    )
    options.add_argument("--rounds", type=int, default=3, help="comparison rounds per tree (3)")
    options.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    options.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    options.add_argument("--redis-url", default="", help=argparse.SUPPRESS)
    return options.parse_args(argv)


def server_command(
    args: argparse.Namespace, catalog: str, model: Path, redis_url: str
) -> list[str]:
    """The argv of this tree's server process for one catalog."""
    command = [sys.executable, "-m", "bench.serve.throughput", "--serve", catalog]
    command += ["--model", str(model), "--data-dir", str(args.data_dir)]
    return [*command, "--items", str(args.items), "--redis-url", redis_url]


def stage_ms(before: str, after: str) -> dict[str, float]:
    """Mean milliseconds of each stage over the pages computed between two scrapes."""
    old = histogram_totals(before, "streamrec_stage_seconds", "stage")
    new = histogram_totals(after, "streamrec_stage_seconds", "stage")
    means = {}
    for stage, (count, total) in new.items():
        done, spent = count - old.get(stage, (0.0, 0.0))[0], total - old.get(stage, (0.0, 0.0))[1]
        if done > 0:
            means[stage] = spent / done * 1000
    return means


def cache_delta(before: str, after: str) -> dict[str, float]:
    """Cache lookups by result between two scrapes."""
    old = by_label(before, "streamrec_cache_requests_total", "result")
    new = by_label(after, "streamrec_cache_requests_total", "result")
    return {k: v - old.get(k, 0.0) for k, v in new.items() if v - old.get(k, 0.0) > 0}


def measure(args: argparse.Namespace, port: int, recs: list[str]) -> dict[str, Any]:
    """Saturated recommendations and /health, then half the maximum, on one server."""
    before = asyncio.run(scrape(port))
    rec = wrk(port, recs, args.seconds, args.connections)
    after = asyncio.run(scrape(port))
    health = wrk(port, ["/health"], args.seconds, args.connections)
    half_rate = rec["rps"] / 2
    half = wrk_paced(port, recs, half_rate, args.seconds, args.connections)
    drained = asyncio.run(drain(port))
    return {
        "recommendations": rec,
        "health": health,
        "ratio": rec["rps"] / health["rps"],
        "half_rate": half_rate,
        "half": half,
        "drained_s": drained,
        "stages_ms": stage_ms(before, after),
        "lookups": cache_delta(before, after),
        "computed_pages": _computed(before, after),
        "connections": args.connections,
    }


def _computed(before: str, after: str) -> float:
    first = STEPS[0][0]
    old = histogram_totals(before, "streamrec_stage_seconds", "stage").get(first, (0.0, 0.0))
    new = histogram_totals(after, "streamrec_stage_seconds", "stage").get(first, (0.0, 0.0))
    return new[0] - old[0]


def bench_server(args: argparse.Namespace, catalog: str, model: Path, cache: str) -> dict[str, Any]:
    """One server: warm up (and fill the cache when on), then measure."""
    redis_url = args.redis if cache == "on" else ""
    server, ready = launch(server_command(args, catalog, model, redis_url))
    try:
        recs = page_paths(ready["users"])
        asyncio.run(warm_up(ready["port"], recs[:WARM_UP]))
        if cache == "on":
            recs = recs[: args.cached_users]
            asyncio.run(warm_up(ready["port"], recs))
        result = measure(args, ready["port"], recs)
        if args.flame is not None:
            flame = args.flame / f"{catalog}-cache-{cache}.svg"
            profile(
                server.pid, flame, lambda: wrk(ready["port"], recs, args.seconds, args.connections)
            )
    finally:
        stop(server)
    ready = {k: v for k, v in ready.items() if k not in ("users", "port")}
    return {"catalog": catalog, "cache": cache, "ready": ready, **result}


def ensure_py_spy() -> str:
    """The path of py-spy beside this interpreter, pip-installed when missing."""
    found = Path(sys.executable).parent / "py-spy"
    if not found.is_file():
        print("py-spy is missing: pip install py-spy", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    return str(found)


def profile(pid: int, svg: Path, load: Callable[[], object]) -> None:
    """Sample process `pid` with py-spy into `svg` while `load()` runs."""
    svg.parent.mkdir(parents=True, exist_ok=True)
    command = [ensure_py_spy(), "record", "-p", str(pid), "-o", str(svg), "-r", "200"]
    spy = subprocess.Popen([*command, "--nonblocking"], stderr=subprocess.DEVNULL)
    try:
        load()
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes the graph on SIGINT
        spy.wait(60)
    print(f"flame graph: {svg}", file=sys.stderr)


def report(result: dict[str, Any], loads: list[str]) -> str:
    """Markdown lines for one server run."""
    rec, health, half = result["recommendations"], result["health"], result["half"]
    ready = result["ready"]
    stages = result["stages_ms"]
    listed = ", ".join(f"{name} {stages[name]:.3f}" for name, _ in STEPS if name in stages)
    extra = [name for name in stages if name not in dict(STEPS)]
    listed += "".join(f", {name} {stages[name]:.3f}" for name in extra)
    computed = sum(stages.values())
    ratio_ok = "met" if result["ratio"] >= RATIO_TARGET else "NOT met"
    on_time = half["late"] <= LATE_SHARE * max(half["requests"], 1.0)
    half_ok = "met" if half["p99_ms"] < HALF_P99_TARGET_MS and on_time else "NOT met"
    load = "; ".join(loads)
    return "\n".join(
        [
            f"- **{result['catalog']}, cache {result['cache']}**: {ready['items']} items, "
            f"{ready['users_total']} users; candidates ranked min {ready['ranked_min']}, mean "
            f"{ready['ranked_mean']:.0f}; in-process page {ready['pipeline_cpu_ms']:.2f} ms CPU",
            f"  - wrk -t1 -c{result['connections']}: recommendations {rec['rps']:.0f} req/s "
            f"(p50 {rec['p50_ms']:.2f} ms, p99 {rec['p99_ms']:.2f} ms), /health "
            f"{health['rps']:.0f} req/s (p50 {health['p50_ms']:.2f} ms, p99 "
            f"{health['p99_ms']:.2f} ms); ratio {result['ratio']:.3f} (target >= "
            f"{RATIO_TARGET}: {ratio_ok})",
            f"  - at half the max ({result['half_rate']:.0f} req/s): p50 {half['p50_ms']:.2f} ms,"
            f" p99 {half['p99_ms']:.2f} ms, {half['rps']:.0f} req/s achieved, "
            f"{half['late']:.0f} of {half['requests']:.0f} sent late (latest "
            f"{half['latest_ms']:.1f} ms; p99 < {HALF_P99_TARGET_MS:.0f} ms with at most "
            f"{LATE_SHARE:.0%} late: {half_ok})",
            f"  - computed pages during the saturated run: {result['computed_pages']:.0f}; "
            f"cache lookups {result['lookups']}; stage ms per computed page: {listed} "
            f"(sum {computed:.3f})",
            f"  - load average (1, 5, 15 min) before; after: {load}",
        ]
    )


def main(argv: Sequence[str]) -> int:
    """Run every catalog and cache mode, print the report."""
    args = parse(argv)
    if args.serve:
        return serve(args.serve, args.model, args.data_dir, args.items, args.redis_url)
    ensure_wrk()
    if args.baseline_commit or args.baseline_tree:
        return compare(args)
    started = time.perf_counter()
    lines = [f"{command()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"]
    for catalog in args.catalogs.split(","):
        model = ml1m_model(args)
        if catalog == "synthetic":
            model = synthetic_bundle(args.data_dir, args.items, model)
        for cache in args.caches.split(","):
            load_before = load_average(2)
            result = bench_server(args, catalog, model, cache)
            print(json.dumps(result, default=float), file=sys.stderr)
            lines.append(report(result, [load_before, load_average(2)]))
            print(lines[-1], flush=True)
    print(f"{command()}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
