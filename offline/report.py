"""Evaluation reports: a Markdown table per model, data and split summary, timings, PNG plots."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from offline.evaluate import Evaluation
from offline.metrics import METRIC_NAMES

REPORT_FILE = "report.md"
METRICS_PLOT = "metrics.png"
CURVE_PLOT = "recall_curve.png"
RESULTS_FILE = "results.json"


def _cell(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4f}"


def metrics_table(evaluation: Evaluation) -> str:
    """Markdown table: one row per model, every metric @k, then fit and ranking seconds."""
    k = evaluation.k
    header = ["model", *(f"{name}@{k}" for name in METRIC_NAMES), "fit s", "rank s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in evaluation.results:
        cells = [result.name, *(_cell(result.metrics[name]) for name in METRIC_NAMES)]
        cells += [f"{result.fit_seconds:.2f}", f"{result.rank_seconds:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _definition_list(title: str, values: dict[str, str] | dict[str, int]) -> str:
    rows = "\n".join(f"- **{key}**: {value}" for key, value in values.items())
    return f"## {title}\n\n{rows}\n"


def render_markdown(evaluation: Evaluation) -> str:
    """The whole report as Markdown text."""
    k = evaluation.k
    return "\n".join(
        [
            f"# Offline evaluation ({evaluation.protocol} protocol, k = {k})\n",
            f"Run at {evaluation.started_at} UTC, seed {evaluation.seed}.\n",
            "## Metrics\n",
            metrics_table(evaluation) + "\n",
            "Binary relevance; NDCG with log2 discount and ideal DCG over min(k, |relevant|); "
            "MAP as RecBole (precision at each hit / min(k, |relevant|)); coverage = distinct "
            "items recommended / catalog; diversity = distinct categories per list / k "
            "(n/a without an item catalog).\n",
            f"![metrics per model]({METRICS_PLOT})\n",
            f"![recall@k for k = 1..50]({CURVE_PLOT})\n",
            _definition_list("Data", evaluation.data),
            _definition_list("Split", evaluation.split_params),
            _definition_list("Split sizes", evaluation.split_summary),
        ]
    )


def plot_metrics(evaluation: Evaluation, path: Path) -> None:
    """Grouped bars: one group per metric, one bar per model."""
    names = [
        n for n in METRIC_NAMES if not all(math.isnan(r.metrics[n]) for r in evaluation.results)
    ]
    figure, axes = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(len(evaluation.results), 1)
    for offset, result in enumerate(evaluation.results):
        positions = [i + offset * width for i in range(len(names))]
        axes.bar(positions, [result.metrics[n] for n in names], width, label=result.name)
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(names))])
    axes.set_xticklabels([f"{n}@{evaluation.k}" for n in names])
    axes.set_title(f"Metrics per model ({evaluation.protocol})")
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_recall_curves(evaluation: Evaluation, path: Path) -> None:
    """Recall@k for k = 1..50, one line per model."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for result in evaluation.results:
        ks = range(1, len(result.recall_curve) + 1)
        axes.plot(ks, result.recall_curve, label=result.name)
    axes.set_xlabel("k")
    axes.set_ylabel("recall@k")
    axes.set_title(f"Recall@k ({evaluation.protocol})")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")  # "best" searches every point of every curve
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(evaluation: Evaluation, out_dir: Path) -> Path:
    """Write report.md, the two plots and results.json into `out_dir`; returns the report path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_metrics(evaluation, out_dir / METRICS_PLOT)
    plot_recall_curves(evaluation, out_dir / CURVE_PLOT)
    (out_dir / RESULTS_FILE).write_text(json.dumps(asdict(evaluation), indent=2))
    report = out_dir / REPORT_FILE
    report.write_text(render_markdown(evaluation))
    return report
