"""Publish throughput: `streamrec publish` against a bare aiokafka producer, same broker, same run.

Usage: python -m bench.stream.publish [--events 500000]
Prints events/s of each path and their ratio (target: ratio >= 0.7 and >= 50k events/s).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import polars as pl
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.common.command import publish_file
from bench.common.report import parser
from bench.common.stack import broker_with_topics
from streamrec.settings import Settings


def make_file(path: Path, count: int) -> None:
    """A Parquet file of `count` valid events over 100k users and 20k items."""
    index = pl.int_range(0, count, eager=True)
    frame = pl.DataFrame(
        {
            "event_id": index.cast(pl.String).map_elements(
                lambda i: f"e{i}", return_dtype=pl.String
            ),
            "user_id": (index % 100_000).cast(pl.String),
            "item_id": ((index * 7) % 20_000).cast(pl.String),
            "type": pl.Series(
                ["view", "click", "view", "add_to_cart", "purchase"] * (count // 5 + 1)
            ).head(count),
            "timestamp": (index + 1_700_000_000).cast(pl.Float64),
        }
    )
    frame.write_parquet(path)


async def bare_publish(settings: Settings, path: Path) -> float:
    """Read the file and send its rows as JSON with a plain producer's batch API; return events/s.

    This is the fastest bare aiokafka path found here (per-partition `create_batch` /
    `send_batch`, about 4x per-message `send`), so the ratio measures streamrec's own overhead.
    """
    started = time.perf_counter()
    frame = pl.read_parquet(path)
    values = frame.write_ndjson().encode().splitlines()
    keys = [k.encode() for k in frame["user_id"].to_list()]
    client = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, max_batch_size=1024 * 1024, acks=1
    )
    await client.start()
    partitioner = DefaultPartitioner()
    try:
        parts = sorted(await client.partitions_for("bench-bare"))
        for start in range(0, len(values), 20_000):
            batches = {p: client.create_batch() for p in parts}
            futures = []
            for i in range(start, min(start + 20_000, len(values))):
                part = partitioner(keys[i], parts, parts)
                if batches[part].append(key=keys[i], value=values[i], timestamp=None) is None:
                    futures.append(
                        await client.send_batch(batches[part], "bench-bare", partition=part)
                    )
                    batches[part] = client.create_batch()
                    batches[part].append(key=keys[i], value=values[i], timestamp=None)
            for part, batch in batches.items():
                if batch.record_count():
                    futures.append(await client.send_batch(batch, "bench-bare", partition=part))
            await asyncio.gather(*futures)
    finally:
        await client.stop()
    return len(values) / (time.perf_counter() - started)


def streamrec_publish(settings: Settings, path: Path) -> tuple[float, str]:
    """Run the CLI end to end; return events/s over its wall time and its closing line."""
    started = time.perf_counter()
    output = publish_file(settings, path)
    elapsed = time.perf_counter() - started
    count = pl.scan_parquet(path).select(pl.len()).collect().item()
    return count / elapsed, output.strip()


async def create_bare_topic(settings: Settings) -> None:
    """The bare producer's topic, partitioned like `events`."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("bench-bare", settings.partitions, 1)])
    finally:
        await admin.close()


def main() -> None:
    """Run both paths and print the comparison."""
    options = parser(__doc__)
    options.add_argument("--events", type=int, default=500_000, help="events (500000)")
    args = options.parse_args()
    with broker_with_topics() as (_broker, settings):
        asyncio.run(create_bare_topic(settings))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "events.parquet"
            make_file(path, args.events)
            bare = asyncio.run(bare_publish(settings, path))
            ours, line = streamrec_publish(settings, path)
        print(f"events: {args.events:,}  partitions: {settings.partitions}")
        print(f"bare aiokafka producer : {bare:>10,.0f} events/s")
        print(f"streamrec publish (CLI): {ours:>10,.0f} events/s  (wall time incl. start-up)")
        print(f"  its own line: {line}")
        print(f"ratio streamrec/bare   : {ours / bare:.2f}  (target >= 0.70, >= 50k events/s)")


if __name__ == "__main__":
    main()
