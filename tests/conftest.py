"""Session fixtures: a real embedded Kafka-protocol broker and the Redis of STREAMREC_REDIS_URL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cli.embedded_broker import EmbeddedBroker, start_broker
from streamrec.settings import Settings
from streamrec.topics import ensure_topics

TEST_PARTITIONS = 4
FORWARD_SECRET = "integration-tests-forwarding-secret"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A real broker per test module (empty topics keep modules independent), on a free port."""
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    running = start_broker(log_file=log)
    settings = Settings(broker=running.url, partitions=TEST_PARTITIONS)
    asyncio.run(ensure_topics(settings))
    yield running
    running.stop()


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings that reach the session broker, with a private data dir."""
    return Settings(
        broker=broker.url,
        partitions=TEST_PARTITIONS,
        data_dir=tmp_path / "var",
        registry=tmp_path / "var" / "registry",
        redis_url=redis_url(),
        forward_secret=FORWARD_SECRET,
    )


def redis_url() -> str:
    """The Redis the tests use (STREAMREC_REDIS_URL or the local default)."""
    return os.environ.get("STREAMREC_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session", autouse=True)
def redis_available() -> str:
    """Fail loudly (never skip) when the Redis the tests need is not running."""
    import redis

    url = redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is required by the test suite and is not reachable at {url} ({error}); "
            "start it (redis-server) or set STREAMREC_REDIS_URL",
            pytrace=False,
        )
    return url


def with_env(settings: Settings) -> dict[str, str]:
    """Environment for a child process that should use these settings."""
    env = dict(os.environ)
    for name, value in (
        ("STREAMREC_BROKER", settings.broker),
        ("STREAMREC_PARTITIONS", str(settings.partitions)),
        ("STREAMREC_DATA_DIR", str(settings.data_dir)),
        ("STREAMREC_REGISTRY", str(settings.registry)),
        ("STREAMREC_REDIS_URL", settings.redis_url),
        ("STREAMREC_APP_ID", settings.app_id),
        ("STREAMREC_API_PORT", str(settings.api_port)),
        ("STREAMREC_BROKER_FIXES", settings.broker_fixes),
        ("STREAMREC_RATE_LIMIT_BURST", str(settings.rate_limit_burst)),
        ("STREAMREC_RATE_LIMIT_PER_S", str(settings.rate_limit_per_s)),
        ("STREAMREC_FORWARD_SECRET", settings.forward_secret),
        ("STREAMREC_AUTH", "on" if settings.auth else "off"),
        ("STREAMREC_JWT_SECRET", settings.jwt_secret),
        ("STREAMREC_EXPLORATION_SLOTS", str(settings.exploration_slots)),
        ("STREAMREC_ITEM_SUMMARIES", "on" if settings.item_summaries else "off"),
        ("STREAMREC_POOLS_MAX_AGE_S", str(settings.pools_max_age_s)),
        ("STREAMREC_REDIS_BACKOFF_S", str(settings.redis_backoff_s)),
        ("STREAMREC_MAX_FUTURE_S", str(settings.max_future_s)),
    ):
        env[name] = value
    return env


__all__ = ["FORWARD_SECRET", "TEST_PARTITIONS", "redis_url", "replace", "with_env"]
