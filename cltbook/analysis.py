"""Tables and figures the chapters show, computed from the tidy results table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from cltbook.languages import PAPER_ANCHOR, PAPER_SEEN, PAPER_UNSEEN

PAPER_LANGUAGE_ORDER = (PAPER_ANCHOR, *PAPER_SEEN, *PAPER_UNSEEN)
ROLE_ORDER = ("anchor", "seen", "unseen")
PALETTE = "colorblind"  # one colour-blind-safe palette for every figure


def set_style() -> None:
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")


def language_order(languages) -> list[str]:
    """The paper's order first (en, seen, unseen), then any other language alphabetically."""
    present = set(languages)
    ordered = [code for code in PAPER_LANGUAGE_ORDER if code in present]
    return ordered + sorted(present - set(ordered))


def language_by_n_table(results: pd.DataFrame, task: str, metric: str, **filters) -> pd.DataFrame:
    """Languages × n per language, mean over seeds — the shape of the paper's appendix tables."""
    rows = results[(results["task"] == task) & (results["metric"] == metric)]
    for column, value in filters.items():
        rows = rows[rows[column] == value]
    table = rows.pivot_table(index="language", columns="n_per_language", values="value", aggfunc="mean")
    table = table.reindex(language_order(table.index))
    table.columns.name = "n per language"
    return table


def plot_language_curves(results: pd.DataFrame, task: str, metric: str, ax=None, **filters):
    """Metric against n per language, one line per language, styled by role."""
    rows = results[(results["task"] == task) & (results["metric"] == metric)]
    for column, value in filters.items():
        rows = rows[rows[column] == value]
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    sns.lineplot(
        data=rows, x="n_per_language", y="value", hue="language", style="role",
        hue_order=language_order(rows["language"].unique()),
        style_order=[r for r in ROLE_ORDER if r in set(rows["role"])],
        marker="o", errorbar=("ci", 95), ax=ax,
    )
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.set_xlabel("examples added per seen language (n, symlog scale)")
    ax.set_ylabel(f"{metric} (0–1)")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize="small")
    return ax
