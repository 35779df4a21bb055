"""The private-internals patches refuse versions they were not written for."""

from __future__ import annotations

import pytest

from agents.runtime.patches import PINNED, check_versions, version_mismatches
from streamrec.errors import ConfigError


def test_the_installed_versions_are_the_pinned_ones() -> None:
    assert version_mismatches() == []
    check_versions()


def test_another_version_is_named_with_the_one_written_for() -> None:
    wanted = {**PINNED, "aiokafka": "0.0.1"}
    problems = version_mismatches(wanted)
    assert len(problems) == 1 and "aiokafka" in problems[0] and "written for 0.0.1" in problems[0]


def test_a_missing_package_is_named() -> None:
    assert version_mismatches({"no-such-package-here": "1.0"}) == [
        "no-such-package-here not installed (written for 1.0)"
    ]


def test_the_pins_match_the_project_requirements() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "pyproject.toml").read_text()
    for package, pinned in PINNED.items():
        assert f'"{package}=={pinned}"' in text, package


def test_check_versions_raises_a_config_error_naming_the_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import agents.runtime.patches as patches

    monkeypatch.setattr(
        patches, "version_mismatches", lambda: ["aiokafka 9.9 (written for 0.14.0)"]
    )
    with pytest.raises(ConfigError, match=r"agents\.runtime\.patches.*aiokafka 9\.9"):
        patches.check_versions()
