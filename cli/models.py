"""`streamrec models list|show|activate|rollback`: the model registry from the command line."""

from __future__ import annotations

import argparse
import json

from models.registry import list_versions, read_manifest, verify
from offline.activation import activate, active_mirror, rollback
from streamrec.errors import RegistryError
from streamrec.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `models` command and its subcommands."""
    parser = sub.add_parser(
        "models",
        help="list, inspect, activate or roll back model versions",
        description="The registry is $STREAMREC_REGISTRY; activation publishes to model-updates "
        "on $STREAMREC_BROKER.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="versions, oldest first; * marks the active one").set_defaults(
        func=run_list
    )
    show = actions.add_parser("show", help="print a version's manifest after checking its files")
    show.add_argument("version", help="version name as listed")
    show.set_defaults(func=run_show)
    act = actions.add_parser("activate", help="publish VERSION as the active model")
    act.add_argument("version", help="version name as listed")
    act.set_defaults(func=run_activate)
    actions.add_parser("rollback", help="re-activate the previously active version").set_defaults(
        func=run_rollback
    )


def run_list(args: argparse.Namespace) -> int:
    """Print one line per version."""
    settings = Settings.from_env()
    mirror = active_mirror(settings.registry) or {}
    for version in list_versions(settings.registry):
        manifest = read_manifest(settings.registry / version)
        marker = "*" if mirror.get("version") == version else " "
        counts = manifest.get("counts", {})
        print(
            f"{marker} {version}  users={counts.get('users', '?')} items={counts.get('items', '?')}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the verified manifest as JSON."""
    settings = Settings.from_env()
    path = settings.registry / args.version
    if not path.is_dir():
        raise RegistryError(f"{args.version}: no such version in {settings.registry}")
    print(json.dumps(verify(path), indent=2, sort_keys=True))
    return 0


def run_activate(args: argparse.Namespace) -> int:
    """Publish the activation and say what was active before."""
    record = activate(Settings.from_env(), args.version)
    print(f"activated {record.version} (previous: {record.previous or 'none'})")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    """Activate the previous version."""
    record = rollback(Settings.from_env())
    print(f"rolled back to {record.version} (from {record.previous})")
    return 0
