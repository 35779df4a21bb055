"""Topic names and layout of DESIGN.md, and their creation on any Kafka-protocol broker."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streamrec.errors import BrokerError
from streamrec.settings import Settings

EVENTS = "events"
ITEMS = "items"
USERS = "users"
IMPRESSIONS = "impressions"
MODEL_UPDATES = "model-updates"
EXPERIMENTS = "experiments"
"""Compacted, keyed by experiment id: every worker folds the whole topic."""
DEAD_LETTERS = "dead-letters"
ITEM_SIGNALS = "item-signals"
"""Internal: applied events and impressions re-keyed by item."""
ITEM_SUMMARIES = "item-summaries"
"""Internal, compacted, keyed by item, named per app (`item_summaries_topic`): what serving
reads of each item; every worker folds the whole topic."""
MODEL_UPDATES_KEY = "active"
"""The one key of `model-updates`: its latest record names the active version."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic, whether it is keyed (partitioned like the others) and whether it is compacted."""

    name: str
    keyed: bool
    compacted: bool


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(EVENTS, keyed=True, compacted=False),
    TopicSpec(ITEMS, keyed=True, compacted=True),
    TopicSpec(USERS, keyed=True, compacted=True),
    TopicSpec(IMPRESSIONS, keyed=True, compacted=False),
    TopicSpec(MODEL_UPDATES, keyed=False, compacted=True),
    TopicSpec(EXPERIMENTS, keyed=False, compacted=True),
    TopicSpec(DEAD_LETTERS, keyed=False, compacted=False),
)


def item_summaries_topic(app_id: str) -> str:
    """The item-summaries topic of one app: derived state, like its tables' changelogs."""
    return f"{app_id}-{ITEM_SUMMARIES}"


def partitions_of(spec: TopicSpec, settings: Settings) -> int:
    """Partition count of a topic: keyed topics share `settings.partitions`, others have one."""
    return settings.partitions if spec.keyed else 1


def new_topic(spec: TopicSpec, settings: Settings) -> NewTopic:
    """The admin request that creates one topic."""
    config = {"cleanup.policy": "compact"} if spec.compacted else {}
    return NewTopic(
        name=spec.name,
        num_partitions=partitions_of(spec, settings),
        replication_factor=settings.replication,
        topic_configs=config,
    )


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the topics of DESIGN.md that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        await admin.start()
    except KafkaError as error:
        raise BrokerError(f"cannot reach the broker at {settings.broker}: {error}") from error
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in TOPICS if spec.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new_topic(spec, settings) for spec in missing])
        return [spec.name for spec in missing]
    finally:
        await admin.close()
