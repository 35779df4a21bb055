"""The broker fixes refuse library versions they were not written for."""

from __future__ import annotations

import pytest

from agents import workarounds
from streamrec.errors import ConfigError
from streamrec.settings import Settings


def test_the_installed_libraries_are_those_the_fixes_reach_into() -> None:
    workarounds.check_versions()


def test_another_version_stops_the_fixes_before_any_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(workarounds.WRITTEN_FOR, "aiokafka", "0.0.1")
    monkeypatch.setattr(workarounds, "_applied", set())
    with pytest.raises(ConfigError, match="aiokafka"):
        workarounds.apply(Settings(), ["fast_fetch"])
    assert not workarounds._applied
