"""Evaluation end to end on a small log, the Markdown report, the plots and the CLI."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import polars as pl
import pytest

from cli import evaluate as evaluate_command
from offline.evaluate import Evaluation, ModelResult, evaluate
from offline.report import metrics_table, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _log(users: int = 40, items: int = 30) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Users click items of their own half of the catalog over time."""
    rows = []
    for u in range(users):
        half = u % 2
        for step in range(12):
            item = half * (items // 2) + (u + step * 7) % (items // 2)
            rows.append((f"e{u}-{step}", f"u{u}", f"i{item}", "click", float(step * 100 + u), None))
    events = pl.DataFrame(
        rows,
        schema=["event_id", "user_id", "item_id", "type", "timestamp", "value"],
        orient="row",
    )
    catalog = pl.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(items)],
            "category": [f"c{i % 3}" for i in range(items)],
        }
    )
    return events, catalog


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    events, items = _log()
    return evaluate(events, items, protocol="temporal", k=5, models=["pop", "ease"], progress=False)


def test_every_model_is_scored_on_the_same_split(evaluation: Evaluation) -> None:
    assert [r.name for r in evaluation.results] == ["pop", "ease"]
    assert evaluation.split_summary["test_users"] > 0
    for result in evaluation.results:
        assert 0.0 <= result.metrics["ndcg"] <= 1.0
        assert 0.0 < result.metrics["diversity"] <= 1.0
        assert len(result.recall_curve) == 30  # the whole catalog, fewer than 50 items
        assert result.recall_curve == sorted(result.recall_curve)


def test_personalised_model_beats_popularity_on_block_structured_clicks(
    evaluation: Evaluation,
) -> None:
    pop, ease = evaluation.results
    assert ease.metrics["recall"] > pop.metrics["recall"]


def test_report_holds_the_table_split_and_plots(evaluation: Evaluation, tmp_path: Path) -> None:
    report = write_report(evaluation, tmp_path)
    text = report.read_text()
    assert "| model | precision@5 | recall@5 | ndcg@5 |" in text
    assert f"{evaluation.results[1].metrics['ndcg']:.4f}" in text
    assert "cutoff" in text and "catalog_items" in text
    for plot in ("metrics.png", "recall_curve.png"):
        assert (tmp_path / plot).read_bytes().startswith(PNG_MAGIC)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["results"][0]["name"] == "pop"


def test_missing_metric_is_shown_as_not_available() -> None:
    metrics = dict.fromkeys(
        ("precision", "recall", "ndcg", "hit_rate", "map", "coverage"), 0.25
    ) | {"diversity": math.nan}
    evaluation = Evaluation("recbole", 10, 1, {}, {}, {}, [ModelResult("pop", metrics, [], 1, 2)])
    row = metrics_table(evaluation).splitlines()[-1]
    assert (
        row == "| pop | 0.2500 | 0.2500 | 0.2500 | 0.2500 | 0.2500 | 0.2500 | n/a | 1.00 | 2.00 |"
    )


def test_evaluate_command_prints_the_table_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events, items = _log()
    events.write_parquet(tmp_path / "events.parquet")
    items.write_parquet(tmp_path / "items.parquet")
    argv = ["evaluate", "--events", str(tmp_path / "events.parquet"), "--models", "pop"]
    argv += ["--items", str(tmp_path / "items.parquet"), "--out", str(tmp_path / "out")]
    parser = argparse.ArgumentParser()
    evaluate_command.register(parser.add_subparsers())
    args = parser.parse_args([*argv, "--no-progress"])
    assert args.func(args) == 0
    assert "| pop |" in capsys.readouterr().out
    assert (tmp_path / "out" / "report.md").exists()
