"""The command line refuses bad arguments and mismatched files with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main

EVENT = {"user_id": "u1", "item_id": "i1", "type": "rating", "value": 4, "timestamp": 1_700_000_000}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-time", "yesterday"], "argument --from-time: 'yesterday' is not a time"),
        (["--to-time", "soon"], "argument --to-time: 'soon' is not a time"),
        (["--from-offset", "-1"], "argument --from-offset: -1 is negative"),
        (["--to-offset", "ten"], "argument --to-offset: 'ten' is not an offset"),
        (["--rate", "0"], "argument --rate: 0 must be a positive number"),
    ],
)
def test_replay_refuses_bad_bounds_without_a_traceback(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", "--target", "copy", *args])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert message in err
    assert "Traceback" not in err


def test_publishing_an_events_file_to_items_is_refused_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMREC_BROKER", "kafka://127.0.0.1:1")  # nothing listens there
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENT) + "\n")
    assert main(["publish", str(path), "--topic", "items", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "columns timestamp, type, user_id, value belong to events records, not items" in err
    assert "nothing published (use --topic events)" in err
