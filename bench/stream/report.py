"""The Markdown section the stream benchmark prints, and appends to the file `--results` names."""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime

from bench.common.report import MACHINE, command
from streamrec.settings import Settings

Figures = dict[str, dict[str, float]]


def ratio_line(rounds: list[Figures], baseline: str = "a", phase: str = "b") -> str | None:
    """The phase/baseline ratio of every round and their median, when there was more than
    one."""
    ratios = [
        r[phase]["events_per_s"] / r[baseline]["events_per_s"]
        for r in rounds
        if baseline in r and phase in r
    ]
    if len(ratios) < 2:
        return None
    listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    median = statistics.median(ratios)
    return f"| ({phase})/({baseline}) per round | {listed} (median **{median:.2f}**) |"


def group_lines(figures: Figures, rounds: list[Figures]) -> list[str]:
    """Rows for the worker without item summaries (s), two (c) and three (t) workers, and
    their rates against the do-nothing agent (n) and the one worker (b)."""
    lines = []
    for phase, label in (
        ("s", "one worker, no item summaries"),
        ("c", "two workers, combined"),
        ("t", "three workers, combined"),
    ):
        if found := figures.get(phase):
            lines.append(f"| ({phase}) {label} | {found['events_per_s']:,.0f} events/s |")
    for phase, baseline in (("b", "s"), ("c", "n"), ("t", "n")):
        if phase in figures and baseline in figures:
            ratio = figures[phase]["events_per_s"] / figures[baseline]["events_per_s"]
            lines.append(f"| ({phase})/({baseline}) | {ratio:.2f} |")
            if per_round := ratio_line(rounds, baseline, phase):
                lines.append(per_round)
    return lines


def throughput_lines(figures: Figures, rounds: list[Figures]) -> list[str]:
    """Rows for (a), (n), (b) and the worker's rate against each do-nothing agent."""
    lines = []
    noop, same, one = (figures.get(phase) for phase in "anb")
    if noop:
        rate = noop["events_per_s"]
        lines.append(f"| (a) do-nothing Faust agent, Faust's delivery | {rate:,.0f} events/s |")
    if same:
        rate = same["events_per_s"]
        lines.append(
            f"| (n) do-nothing Faust agent, the worker's delivery | {rate:,.0f} events/s |"
        )
    if one:
        lines.append(f"| (b) one worker, every table | {one['events_per_s']:,.0f} events/s |")
    if one and "agent_cpu_us" in one:
        lines.append(f"| (b) actors' own CPU per event | {one['agent_cpu_us']:,.1f} µs |")
    for phase, baseline in (("a", noop), ("n", same)):
        if baseline and one:
            ratio = one["events_per_s"] / baseline["events_per_s"]
            lines.append(f"| (b)/({phase}) | {ratio:.2f} |")
        if per_round := ratio_line(rounds, phase):
            lines.append(per_round)
    return lines


def report(
    args: argparse.Namespace, figures: Figures, load: str, rounds: list[Figures] | None = None
) -> str:
    """The Markdown section of the figures, with date, command, machine and load."""
    users, items = figures["load"]["users"], figures["load"]["items"]
    lines = [
        f"## Worker stream throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command()}`  ",
        f"Machine: {MACHINE}; load average {load}.  ",
        f"Backlog: {args.events:,} events over {users:,.0f} users and {items:,.0f} items, "
        f"{args.partitions} partitions, embedded broker (Tansu) on the same machine.",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    lines += throughput_lines(figures, rounds or [])
    one = figures.get("b")
    lines += group_lines(figures, rounds or [])
    if fresh := figures.get("d"):
        lines.append(
            f"| (d) freshness at {args.rate:,.0f} events/s, publish to applied | "
            f"p50 {fresh['p50'] * 1000:.1f} ms, p99 {fresh['p99'] * 1000:.1f} ms |"
        )
    if raw := figures.get("r"):
        lines.append(
            f"| (r) bare aiokafka consumer, same rate, publish to fetched | "
            f"p50 {raw['p50'] * 1000:.1f} ms, p99 {raw['p99'] * 1000:.1f} ms |"
        )
    if fresh and raw:
        lines.append(f"| (d)/(r) p99 | {fresh['p99'] / raw['p99']:.2f} |")
    if one:
        mib = 1024 * 1024
        lines += [
            f"| (e) RocksDB, whole data dir | {one['disk'] / mib:,.0f} MiB |",
            f"| (e) user_state per 1M users | {one['disk_users'] / users * 1e6 / mib:,.0f} MiB |",
            f"| (e) item_state per 100k items | {one['disk_items'] / items * 1e5 / mib:,.0f} MiB |",
            f"| (e) live user_state data per 1M users | "
            f"{one['live_users'] / users * 1e6 / mib:,.0f} MiB |",
            f"| (e) live item_state data per 100k items | "
            f"{one['live_items'] / items * 1e5 / mib:,.0f} MiB |",
            f"| (e) worker RSS idle / after the backlog | "
            f"{one['rss_idle'] / mib:,.0f} / {one['rss'] / mib:,.0f} MiB |",
            f"| (e) RSS growth per 1M users | "
            f"{(one['rss'] - one['rss_idle']) / users * 1e6 / mib:,.0f} MiB |",
        ]
    lines += [
        "",
        "Sizes per 1M users and per 100k items are linear extrapolations of what the backlog "
        "loaded: on disk is du of the table folders (write-ahead logs and not yet compacted "
        "versions included), live data is the bytes of the keys and values the tables hold; "
        "RSS growth counts every table and cache.",
        "",
    ]
    cached = Settings.from_env().state_cache_size
    if one and users <= cached:
        lines += [
            f"The worker keeps up to {cached:,} decoded user states (and as many item states) in "
            f"memory; all {users:,.0f} users of this backlog fit, so the RSS growth line counts "
            "a decoded state per user, which does not scale past the cache's bound.",
            "",
        ]
    return "\n".join(lines)
