"""Serving CPU per request of this tree against an older one, both servers in the same run.

The older tree is a checkout (--baseline-tree) or a commit exported with `git archive` into a
temporary folder (--baseline-commit). Each tree serves ML-1M with its own server process
(`python -m bench.serve.throughput --serve` here, `python -m bench.serve --serve` in trees
from before the benchmarks were grouped), run with this interpreter from its own folder, on a
model its own `streamrec train` wrote into its own data dir (DATA_DIR/bench/baseline-LABEL,
trained once; bundle formats differ between trees). No Redis: every page is computed.

Both servers start, warm up, then take turns, old then new, for --rounds rounds: `wrk -t1`
saturates the recommendations route (the same user order for both), then /health. The CPU
time of the server process (/proc/PID/stat, utime + stime) before and after each wrk run,
divided by the requests wrk saw answered, is the CPU per computed page (per /health request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.proc import cpu_seconds, stop
from bench.common.report import MACHINE, command, load_average
from bench.serve.load import page_paths, warm_up, wrk
from bench.serve.server import launch
from bench.serve.world import ml1m_model
from models.registry import list_versions

ROOT = Path(__file__).resolve().parents[2]
WARM_UP = 50
COLUMNS = (
    ("rps", "recommendations req/s"),
    ("cpu_ms", "CPU ms per page"),
    ("p99_ms", "p99 ms"),
    ("health_rps", "/health req/s"),
    ("health_cpu_ms", "CPU ms per /health"),
)


@dataclass(frozen=True)
class Tree:
    """One source tree and how its server process starts."""

    label: str
    root: Path
    command: list[str]

    @property
    def env(self) -> dict[str, str]:
        """This environment, with the tree's own packages first on the import path."""
        return {**os.environ, "PYTHONPATH": str(self.root), "STREAMREC_REDIS_URL": ""}


def export(commit: str, into: Path) -> Path:
    """The tree of `commit` of this repository, written under `into` with `git archive`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def cli_module(root: Path) -> str:
    """The `streamrec` command line's module in a tree (it moved from streamrec.cli)."""
    return "cli.main" if (root / "cli" / "main.py").is_file() else "streamrec.cli.main"


def older_model(root: Path, data_dir: Path, events: Path, items: Path) -> Path:
    """The newest ML-1M version the older tree trained into `data_dir`, trained when none."""
    registry = data_dir / "bench" / "registry-ml-1m"
    if not list_versions(registry):
        command = [sys.executable, "-m", cli_module(root), "train", "--events", str(events)]
        command += ["--items", str(items), "--ranker-users", "300"]
        env = {**os.environ, "PYTHONPATH": str(root), "STREAMREC_REGISTRY": str(registry)}
        print(f"training ML-1M with the tree in {root}", file=sys.stderr)
        subprocess.run(command, cwd=root, env=env, check=True)
    return registry / list_versions(registry)[-1]


def older_tree(args: argparse.Namespace, label: str, root: Path) -> Tree:
    """The older tree's server over its own ML-1M model, with this tree's dataset files."""
    data_dir = args.data_dir.resolve() / "bench" / f"baseline-{label}"
    datasets = data_dir / "datasets"
    if not datasets.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        datasets.symlink_to((args.data_dir / "datasets").resolve())
    folder = datasets / "ml-1m"
    model = older_model(root, data_dir, folder / "events.parquet", folder / "items.parquet")
    grouped = (root / "bench" / "serve" / "throughput.py").is_file()
    module = "bench.serve.throughput" if grouped else "bench.serve"
    server = [sys.executable, "-m", module, "--serve", "ml-1m", "--model", str(model)]
    server += ["--data-dir", str(data_dir), "--items", str(args.items)]
    return Tree(f"old {label}", root, server)


def this_tree(args: argparse.Namespace) -> Tree:
    """This tree's server over its ML-1M model."""
    model = ml1m_model(args)
    server = [sys.executable, "-m", "bench.serve.throughput", "--serve", "ml-1m"]
    server += ["--model", str(model), "--data-dir", str(args.data_dir.resolve())]
    return Tree("new", ROOT, [*server, "--items", str(args.items), "--redis-url", ""])


def saturate(pid: int, port: int, paths: list[str], args: argparse.Namespace) -> dict[str, float]:
    """One wrk run: its figures, and the server's CPU milliseconds per answered request."""
    before = cpu_seconds(pid)
    result = wrk(port, paths, args.seconds, args.connections)
    spent = cpu_seconds(pid) - before
    return {**result, "cpu_ms": spent / max(result["requests"], 1.0) * 1000}


def one_round(pid: int, port: int, paths: list[str], args: argparse.Namespace) -> dict[str, float]:
    """Recommendations, then /health, on one server."""
    pages = saturate(pid, port, paths, args)
    health = saturate(pid, port, ["/health"], args)
    return {**pages, "health_rps": health["rps"], "health_cpu_ms": health["cpu_ms"]}


def row(label: str, figures: dict[str, float]) -> str:
    """A Markdown row of one round's (or the medians') figures."""
    cells = [
        f"{figures[key]:,.0f}" if "rps" in key else f"{figures[key]:.2f}" for key, _ in COLUMNS
    ]
    return f"| {label} | " + " | ".join(cells) + " |"


def summary(rounds: dict[str, list[dict[str, float]]], old: str) -> list[str]:
    """Median rows of both trees and the ratio new/old of every column."""
    medians = {
        label: {key: statistics.median(r[key] for r in found) for key, _ in COLUMNS}
        for label, found in rounds.items()
    }
    ratio = {key: medians["new"][key] / medians[old][key] for key, _ in COLUMNS}
    cells = " | ".join(f"{ratio[key]:.2f}" for key, _ in COLUMNS)
    return [
        row(f"median, {old}", medians[old]),
        row("median, new", medians["new"]),
        f"| ratio new/old | {cells} |",
    ]


def compare(args: argparse.Namespace) -> int:
    """Start both servers, run the interleaved rounds, print every round and the medians."""
    if args.catalogs != "ml-1m" or args.caches != "off":
        raise SystemExit("the comparison serves --catalogs ml-1m with --caches off only")
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        if args.baseline_tree is not None:
            old = older_tree(args, args.baseline_tree.resolve().name, args.baseline_tree.resolve())
        else:
            root = export(args.baseline_commit, Path(tmp))
            old = older_tree(args, args.baseline_commit, root)
        return run(args, [old, this_tree(args)])


def run(args: argparse.Namespace, trees: list[Tree]) -> int:
    """The rounds on both trees' servers, started once and stopped at the end."""
    load = load_average(2)
    servers: list[tuple[Tree, subprocess.Popen[str], dict[str, Any]]] = []
    try:
        for tree in trees:
            server, ready = launch(tree.command, cwd=tree.root, env=tree.env)
            servers.append((tree, server, ready))
        paths = shared_paths(servers)
        for _, _, ready in servers:
            asyncio.run(warm_up(ready["port"], paths[:WARM_UP]))
        print(f"{command()}\nMachine: {MACHINE}; load average before {load}.")
        checks = ", ".join(f"{t.label} {r['pipeline_cpu_ms']:.2f} ms" for t, _, r in servers)
        print(f"In-process page CPU before serving (the servers' own check): {checks}.\n")
        print("| round, tree | " + " | ".join(name for _, name in COLUMNS) + " |")
        print("|---|" + "---|" * len(COLUMNS), flush=True)
        rounds: dict[str, list[dict[str, float]]] = {tree.label: [] for tree in trees}
        for number in range(1, args.rounds + 1):
            for tree, server, ready in servers:
                figures = one_round(server.pid, ready["port"], paths, args)
                rounds[tree.label].append(figures)
                print(row(f"{number}, {tree.label}", figures), flush=True)
    finally:
        for _, server, _ in servers:
            stop(server)
    print("\n".join(summary(rounds, trees[0].label)))
    print(f"\nload average after: {load_average(2)}")
    return 0


def shared_paths(servers: list[tuple[Tree, subprocess.Popen[str], dict[str, Any]]]) -> list[str]:
    """The same recommendation requests for every server: users all of them know."""
    known = set.intersection(*(set(ready["users"]) for _, _, ready in servers))
    return page_paths(sorted(known))
