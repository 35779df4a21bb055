"""`streamrec worker`: one worker process, its actors, tables and HTTP API."""

from __future__ import annotations

import argparse
import asyncio
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `worker` command."""
    parser = sub.add_parser(
        "worker",
        help="run a worker: the actors, their tables and the HTTP API",
        description="Run one worker process: the Faust actors keyed by user and item, their "
        "RocksDB tables (STREAMREC_DATA_DIR/worker; give every worker its own) and the HTTP "
        "API on STREAMREC_API_HOST:STREAMREC_API_PORT. Workers with the same STREAMREC_APP_ID "
        "share the partitions. A new STREAMREC_APP_ID with an empty data dir rebuilds every "
        "table from the start of the log.",
    )
    parser.add_argument(
        "-l", "--loglevel", help="log level (default: STREAMREC_LOG_LEVEL, which defaults to info)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Create the topics, then hand over to Faust's worker (it exits the process)."""
    from streamrec.settings import Settings
    from streamrec.topics import ensure_topics

    settings = Settings.from_env()
    asyncio.run(ensure_topics(settings))
    from agents.worker import build_worker

    app = build_worker(settings)
    level = args.loglevel or settings.log_level
    sys.argv = ["streamrec", "worker", "-l", level, "--without-web"]
    app.main()
    return 0
