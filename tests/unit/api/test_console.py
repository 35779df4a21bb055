"""The console page, its static files, the Swagger UI docs and the live figures route."""

from __future__ import annotations

import math
import re

from prometheus_client import CollectorRegistry, Counter, Histogram

from api.console.pages import STATIC, SWAGGER
from api.stats import StatsWindow, quantile
from tests.unit.api.conftest import World, serve

OUTSIDE = re.compile(
    r"""(src|href)=["']?(https?:)?//|from ["']https?:|url\(["']?https?:|fetch\(["']https?:"""
)
PAGES = ("overview", "user", "item", "experiments", "models")


async def test_the_console_is_served_at_the_root_with_every_page_script(world: World) -> None:
    async with serve(world.deps()) as client:
        index = await client.get("/")
        scripts = {page: await client.get(f"/console/{page}.js") for page in PAGES}
        missing = await client.get("/console/nothing.js")
    assert index.status_code == 200 and "text/html" in index.headers["content-type"]
    assert '<script type="module" src="/console/main.js">' in index.text
    assert all(answer.status_code == 200 for answer in scripts.values())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_the_docs_page_loads_swagger_ui_from_the_package(world: World) -> None:
    async with serve(world.deps()) as client:
        docs = await client.get("/docs")
        bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text and "/openapi.json" in docs.text
    assert bundle.status_code == 200 and len(bundle.content) > 1_000_000
    assert "Apache License" in (SWAGGER / "LICENSE").read_text()


def test_the_console_loads_nothing_from_another_host() -> None:
    for path in STATIC.iterdir():
        assert not OUTSIDE.search(path.read_text()), path


async def test_stats_report_the_active_model_the_workers_and_auth(world: World) -> None:
    deps = world.deps(workers=lambda: [{"url": "http://w1", "partitions": [0, 1], "self": True}])
    async with serve(deps) as client:
        stats = (await client.get("/stats")).json()
    assert stats["active_model"] == "v1"
    assert stats["workers"] == [{"url": "http://w1", "partitions": [0, 1], "self": True}]
    assert stats["auth"] is False and stats["events_per_s"] == 0.0


def test_stats_are_rates_and_percentiles_over_the_window() -> None:
    registry = CollectorRegistry()
    events = Counter("streamrec_events_processed", "", ["topic", "type"], registry=registry)
    lag = Histogram(
        "streamrec_event_apply_lag_seconds", "", buckets=(0.01, 0.1, 1.0), registry=registry
    )
    now = [100.0]
    window = StatsWindow(registry, clock=lambda: now[0])
    events.labels("events", "click").inc(50)
    for _ in range(99):
        lag.observe(0.005)
    lag.observe(0.5)
    now[0] = 110.0
    figures = window.figures()
    assert figures["events_per_s"] == 5.0 and figures["window_s"] == 10.0
    assert figures["freshness_p50_ms"] is not None and figures["freshness_p50_ms"] <= 10.0
    assert figures["freshness_p99_ms"] is not None and figures["freshness_p99_ms"] <= 10.0
    assert figures["recommendation_p99_ms"] is None and figures["cache_hit_rate"] is None


def test_quantile_interpolates_inside_the_bucket_holding_the_rank() -> None:
    buckets = {0.1: 50.0, 0.2: 100.0, math.inf: 100.0}
    assert quantile(buckets, 0.5) == 0.1
    assert quantile(buckets, 0.75) == 0.15000000000000002
    assert quantile({}, 0.5) is None
    assert quantile({0.1: 1.0, math.inf: 100.0}, 0.5) == math.inf


def test_a_percentile_past_the_last_bound_is_that_bound_and_says_so() -> None:
    registry = CollectorRegistry()
    lag = Histogram("streamrec_event_apply_lag_seconds", "", buckets=(0.1, 60.0), registry=registry)
    window = StatsWindow(registry, clock=lambda: 1.0)
    for _ in range(10):
        lag.observe(3e8)  # events from ten years ago, replayed
    figures = window.figures()
    assert figures["freshness_p99_ms"] == 60_000.0
    assert figures["at_least"] == ["freshness_p50_ms", "freshness_p99_ms"]
