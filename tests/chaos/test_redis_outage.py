"""Redis stopped and started again under a mixed load: no answer is a 5xx, /ready says
degraded while it is away, and the cache serves hits again once it is back."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from streamrec.settings import Settings
from tests.chaos.load import MixedLoad, cache_counts, readiness
from tests.chaos.redis_server import RedisServer
from tests.integration.events import wait_for
from tests.integration.workers import start_worker

pytestmark = [pytest.mark.integration, pytest.mark.chaos]
DOWN_S = 5.0


def test_redis_stopped_and_started_under_load_gives_no_5xx_and_the_cache_comes_back(
    settings: Settings, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    own = replace(
        settings,
        app_id=f"redis-{uuid.uuid4().hex[:8]}",
        redis_url=server.url,
        redis_backoff_s=1.0,
        rate_limit_burst=1_000_000,
        rate_limit_per_s=1e6,
    )
    worker = start_worker(own, tmp_path / "worker")
    try:
        worker.wait_ready()
        with MixedLoad(worker.url, uuid.uuid4().hex[:8]) as load:
            assert wait_for(lambda: cache_counts(worker.url)["hit"] > 0, 30), worker.tail()
            server.stop()
            assert wait_for(lambda: readiness(worker.url) == "degraded", 20), worker.tail()
            time.sleep(DOWN_S)
            errors_while_down = cache_counts(worker.url)["error"]
            server.start()
            hits_at_restart = cache_counts(worker.url)["hit"]
            assert wait_for(lambda: readiness(worker.url) == "ready", 30), worker.tail()
            assert wait_for(lambda: cache_counts(worker.url)["hit"] > hits_at_restart, 30)
        assert errors_while_down > 0, "the load never met the stopped Redis"
        assert load.server_errors() == {}, load.statuses
        assert load.failures == [], load.failures[:5]
        assert sum(load.statuses.values()) > 100
        assert redis.Redis.from_url(server.url).keys("rec:*"), "no page cached after restart"
    finally:
        worker.stop()
        server.stop()
