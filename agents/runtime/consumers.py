"""Consumers the worker starts itself (feeds and followers), paced like its own consumer."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

from agents.runtime.patches import fixes


def paced(consumer: AIOKafkaConsumer) -> AIOKafkaConsumer:
    """Let a started consumer's fetches rest while the worker idles (with fast_fetch on)."""
    return fixes.paced(consumer)
