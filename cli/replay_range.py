"""Backfill: copy a topic's records between offsets or event times into a target topic."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from tqdm import tqdm

from streamrec.errors import RecsysError
from streamrec.kafka import RateLimiter, consumer, end_offsets, partitions_for, producer
from streamrec.settings import Settings


@dataclass(frozen=True)
class ReplayRange:
    """Which records to copy: offsets apply per partition, times are record timestamps (ms)."""

    from_offset: int | None = None
    to_offset: int | None = None
    from_time_ms: int | None = None
    to_time_ms: int | None = None

    def admits(self, timestamp_ms: int) -> bool:
        """Whether a record time falls inside the time bounds."""
        if self.from_time_ms is not None and timestamp_ms < self.from_time_ms:
            return False
        return self.to_time_ms is None or timestamp_ms < self.to_time_ms

    def check(self) -> None:
        """Refuse contradictory bounds with a message naming the options."""
        if any(o is not None and o < 0 for o in (self.from_offset, self.to_offset)):
            raise RecsysError("--from-offset and --to-offset must not be negative")
        if self.from_offset is not None and self.from_time_ms is not None:
            raise RecsysError("give --from-offset or --from-time, not both")
        if self.to_offset is not None and self.to_time_ms is not None:
            raise RecsysError("give --to-offset or --to-time, not both")
        if None not in (self.from_offset, self.to_offset) and self.from_offset > self.to_offset:  # type: ignore[operator]
            raise RecsysError("--from-offset must not exceed --to-offset")


async def plan(
    settings: Settings, client: AIOKafkaConsumer, topic: str, bounds: ReplayRange
) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition, the half-open offset range [start, stop) to read.

    Time bounds are applied to each record while reading: the embedded broker answers
    ListOffsets-by-time with offset 0 whatever the time, so its index cannot be trusted.
    """
    tps = await partitions_for(client, topic)
    ends = await end_offsets(settings, client, tps)
    starts = await client.beginning_offsets(tps)
    if bounds.from_offset is not None:
        starts = {tp: max(starts[tp], bounds.from_offset) for tp in tps}
    stops = dict(ends)
    if bounds.to_offset is not None:
        stops = {tp: min(ends[tp], bounds.to_offset) for tp in tps}
    return {tp: (starts[tp], stops[tp]) for tp in tps if stops[tp] > starts[tp]}


async def replay(
    settings: Settings,
    source: str,
    target: str,
    bounds: ReplayRange,
    *,
    rate: float | None = None,
    progress: bool = True,
) -> int:
    """Copy records (key, value, timestamp) from source to target; return the count copied."""
    bounds.check()
    if source == target:
        raise RecsysError("source and target topics must differ")
    async with consumer(settings) as client, producer(settings) as out:
        ranges = await plan(settings, client, source, bounds)
        await partitions_for(client, target)
        if not ranges:
            return 0
        client.assign(list(ranges))
        for tp, (start, _) in ranges.items():
            client.seek(tp, start)
        total = sum(stop - start for start, stop in ranges.values())
        limiter = RateLimiter(rate)
        copied = 0
        with tqdm(
            total=total, unit="rec", disable=None if progress else True, desc=f"{source}→{target}"
        ) as bar:
            while ranges:
                batch = await client.getmany(*ranges, timeout_ms=1000)
                futures = []
                for tp, records in batch.items():
                    stop = ranges[tp][1]
                    keep = [r for r in records if r.offset < stop and bounds.admits(r.timestamp)]
                    await limiter.admit(len(keep))
                    for record in keep:
                        futures.append(
                            await out.send(
                                target,
                                value=record.value,
                                key=record.key,
                                timestamp_ms=record.timestamp,
                                headers=list(record.headers or ()),
                            )
                        )
                    bar.update(len([r for r in records if r.offset < stop]))
                    if records and records[-1].offset >= stop - 1:
                        ranges.pop(tp)
                        client.pause(tp)
                    copied += len(keep)
                for future in futures:
                    await future
        return copied
