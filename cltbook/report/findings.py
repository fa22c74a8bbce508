"""Findings at a glance: the paper's published curves beside this study's, on the same axes;
every guideline estimate in one forest plot, and every claim's estimate in another.

For each task, English, the seen-language average and the unseen-language average against the
number of examples per seen language: on the left the paper's tables (one model, single-task, the
full language mix; its own metric), on the right this study's single-task runs (the headline
metric, 95% intervals over items). The landing page of the book shows it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from cltbook.report import calibration, published, scorecard, style
from cltbook.report.analysis import ROLE_ORDER, single_task_runs
from cltbook.report.metrics import bootstrap_ci
from cltbook.tasks import TASKS

PAPER_MODEL = "aya23-7b"  # the paper's model with the most tables (and its repeated English runs)


def paper_curves(model: str = PAPER_MODEL) -> pd.DataFrame:
    """The paper's role averages against n: task, n_per_language, role, score, metric."""
    averages = published.table_averages()
    averages = averages[
        (averages["setting"] == "single")
        & (averages["train_langs"] == published.FULL_MIX)
        & (averages["model"] == model)
    ]
    long = averages.melt(
        id_vars=["task", "metric", "n_per_language"],
        value_vars=["anchor", "seen_avg", "unseen_avg"],
        var_name="role",
        value_name="score",
    )
    long["role"] = long["role"].str.removesuffix("_avg")
    return long


def world_curves(results: pd.DataFrame, predictions: pd.DataFrame, n_boot: int = 1000) -> pd.DataFrame:
    """This study's role averages against n (single-task runs of the main size, seed 0), each the
    mean over the role's languages and items, with a 95% bootstrap interval over items."""
    runs = single_task_runs(results)
    runs = runs[runs["seed"] == 0]
    rows = []
    for (task, n), group in runs.groupby(["task", "n_per_language"]):
        metric = calibration.headline(task)
        run_id = group["run_id"].iloc[0]
        items = predictions[(predictions["run_id"] == run_id) & (predictions["task"] == task)]
        for role in ROLE_ORDER:
            languages = group.loc[group["role"] == role, "language"].unique()
            table = items[items["language"].isin(languages)].pivot_table(
                index="item_id", columns="language", values=metric
            )
            if table.empty:
                continue
            low, high = bootstrap_ci(table.to_numpy()[None, ...], lambda v: float(v.mean()), n_boot=n_boot)[1:]
            rows.append(
                {
                    "task": task,
                    "n_per_language": n,
                    "role": role,
                    "score": float(table.to_numpy().mean()),
                    "low": low,
                    "high": high,
                    "metric": metric,
                }
            )
    return pd.DataFrame(rows)


def plot(paper: pd.DataFrame, world: pd.DataFrame):
    """Rows: tasks; columns: the paper, this study. Same x axis (examples per seen language)."""
    tasks = [task for task in TASKS if task in set(world["task"]) or task in set(paper["task"])]
    fig, axes = plt.subplots(len(tasks), 2, figsize=(9, 2.6 * len(tasks)), squeeze=False, sharex=True)
    colours = style.GROUP_COLOURS
    for row, task in enumerate(tasks):
        for col, (frame, source) in enumerate(((paper, f"paper ({PAPER_MODEL})"), (world, "this study"))):
            ax = axes[row, col]
            part = frame[frame["task"] == task]
            for role in ROLE_ORDER:
                line = part[part["role"] == role].sort_values("n_per_language")
                if line.empty:
                    continue
                ax.plot(
                    line["n_per_language"],
                    line["score"],
                    marker="o",
                    color=colours[role],
                    label=style.GROUP_LABELS[role],
                )
                if "low" in line:
                    ax.fill_between(line["n_per_language"], line["low"], line["high"], color=colours[role], alpha=0.15)
            ax.set_xscale("symlog", linthresh=10)
            metric = part["metric"].iloc[0] if len(part) else ""
            ax.set_title(f"{task.replace('_', ' ')} — {source}", fontsize=10)
            label = published.METRIC_LABEL.get(metric) or f"{metric.replace('_', ' ')} (0–1)"
            ax.set_ylabel(label, fontsize=9)
        axes[row, 1].set_ylim(0, 1)
    for ax in axes[-1]:
        ax.set_xlabel("examples per seen language (n)")
    axes[0, 1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def forest(contrasts: pd.DataFrame):
    """Every guideline estimate with its 95% interval, one row each, coloured by its verdict; a row
    without an interval is a cross at 0. ``contrasts``: :func:`cltbook.report.scorecard.guideline_contrasts`."""
    verdicts = [
        scorecard.guideline_verdict(scorecard.row_estimate(row), row["needs"]) for _, row in contrasts.iterrows()
    ]
    rows = pd.DataFrame(
        {
            "label": [
                f"{row.guideline}. {row.advice} ({published.TASK_ABBREVIATION.get(row.task, row.task)})"
                for row in contrasts.itertuples()
            ],
            "value": list(contrasts["value"]),
            "low": list(contrasts["low"]),
            "high": list(contrasts["high"]),
            "colour": [scorecard.GUIDELINE_VERDICT_COLOURS[verdict] for verdict in verdicts],
            "guideline": list(contrasts["guideline"]),
        }
    )
    legend = {
        verdict: colour
        for verdict, colour in scorecard.GUIDELINE_VERDICT_COLOURS.items()
        if verdict != "not contradicted (interval includes 0)"  # the same colour as "not shown"
    }
    return style.forest(
        rows, legend, "contrast on the task's headline metric (95% interval over items)", separate_by="guideline"
    )


def claims_forest(estimates: pd.DataFrame):
    """This study's estimate for each of the paper's claims, one row per claim and task it covers,
    with its 95% interval and coloured by the row's verdict (agree, disagree, not identifiable); a
    claim or task without an interval is a cross at 0, "no contrast" where none can test it.
    ``estimates``: :func:`cltbook.report.scorecard.claim_estimates`."""
    labels = []
    for row in estimates.itertuples():
        where = published.TASK_ABBREVIATION.get(row.task, row.task) if row.task else "no contrast"
        labels.append(f"{row.claim}. {row.says} ({where})")
    rows = estimates.assign(label=labels, colour=[scorecard.VERDICT_COLOURS[v] for v in estimates["verdict"]])
    return style.forest(
        rows,
        scorecard.VERDICT_COLOURS,
        "this study's contrast on the task's headline metric (95% interval over items)",
        separate_by="claim",
    )


__all__ = ["PAPER_MODEL", "claims_forest", "forest", "paper_curves", "plot", "world_curves"]
