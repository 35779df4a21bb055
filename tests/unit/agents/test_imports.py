"""Importing the worker's modules builds nothing: no settings read, no patch, no registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MODULES = (
    "agents.app",
    "agents.experiment_feed",
    "agents.tallies",
    "agents.users",
    "agents.items",
    "agents.experiments",
    "agents.serving",
    "agents.runtime.sizes",
    "agents.worker",
)
PROBE = f"""
import {", ".join(MODULES)}
from agents.runtime.patches import fixes as workarounds
assert not workarounds._applied, workarounds._applied
"""


def test_importing_the_actor_modules_reads_no_settings_and_patches_nothing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STREAMREC_PARTITIONS": "not a number",
        "STREAMREC_DATA_DIR": str(tmp_path / "data"),
        "STREAMREC_REGISTRY": str(tmp_path / "registry"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "registry").exists()
