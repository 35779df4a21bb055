"""`build_worker(settings)`: the broker fixes, the app, and every actor installed on it."""

from __future__ import annotations

import faust

from agents import experiments, items, serving, users
from agents.app import new_worker
from agents.experiment_feed import ExperimentFeed
from agents.invalidation import Invalidator
from agents.runtime import sizes
from agents.runtime.patches import fixes
from agents.tallies import Tallies, owned_partitions
from streamrec.settings import Settings


def build_worker(settings: Settings) -> faust.App:
    """Apply the fixes STREAMREC_BROKER_FIXES names, build the app, install every actor, load
    the registry's active model; `app.main()` then runs the worker."""
    fixes.apply(settings)
    worker = new_worker(settings)
    # Every worker folds the whole experiments topic: the API reads and writes it, the actors
    # tally the pages it shaped and their clicks.
    feed = ExperimentFeed(worker)
    tallies = Tallies(worker.runtime, settings.partitions, feed.log, owned_partitions(worker))
    experiments.install(worker, tallies)
    invalidator = Invalidator.from_settings(settings)
    items.install(worker, invalidator)
    serving.install(worker, feed, tallies)
    sizes.install(worker.app, worker.tables.all())
    users.install(worker, tallies, invalidator)
    return worker.app
