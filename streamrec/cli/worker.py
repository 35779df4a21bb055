"""`streamrec worker`: the same worker as `faust -A agents.app worker -l info`."""

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
    parser.add_argument("-l", "--loglevel", default="info", help="log level (default info)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Create the topics, then hand over to Faust's worker (it exits the process)."""
    from streamrec.settings import Settings
    from streamrec.topics import ensure_topics

    asyncio.run(ensure_topics(Settings.from_env()))
    from agents.app import app

    sys.argv = ["streamrec", "worker", "-l", args.loglevel, "--without-web"]
    app.main()
    return 0
