"""Tables and figures the chapters show, computed from the tidy results table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from cltbook.languages import PAPER_ANCHOR, PAPER_SEEN, PAPER_UNSEEN
from cltbook.report.estimate import Estimate
from cltbook.report.metrics import bootstrap_ci

PAPER_LANGUAGE_ORDER = (PAPER_ANCHOR, *PAPER_SEEN, *PAPER_UNSEEN)
ROLE_ORDER = ("anchor", "seen", "unseen")
DEFAULT_SEEN = ("es", "fr", "ja", "zh")
LATIN = ("es", "fr", "pt")
NON_LATIN = ("ja", "zh", "ko", "ar")
# The groups of languages the chapters average over: the roles of the paper's mix, then the
# paper's script groups (cltbook.report.style labels and colours each).
LANGUAGE_GROUPS = {
    "anchor": (PAPER_ANCHOR,),
    "seen": DEFAULT_SEEN,
    "unseen": PAPER_UNSEEN,
    "latin": LATIN,
    "non_latin": NON_LATIN,
}


def language_order(languages) -> list[str]:
    """The paper's order first (en, seen, unseen), then any other language alphabetically."""
    present = set(languages)
    ordered = [code for code in PAPER_LANGUAGE_ORDER if code in present]
    return ordered + sorted(present - set(ordered))


BUDGET = ["training_steps", "learning_rate"]


def main_budget(results: pd.DataFrame) -> tuple[int, float]:
    """The fine-tuning budget (steps, learning rate) that most fine-tuned runs of a study use."""
    tuned = results[results["mixture_design"] != "none"].drop_duplicates("run_id")
    if tuned.empty:
        raise ValueError("the study has no fine-tuned run")
    steps, rate = tuned.groupby(BUDGET).size().idxmax()
    return int(steps), float(rate)


def fine_tuned_runs(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of augmentation runs fine-tuned with the study's main budget: the runs every axis
    compares. Runs with another budget (an over-training contrast) are left out."""
    steps, rate = main_budget(results)
    return results[
        (results["mixture_design"] == "augmentation")
        & (results["training_steps"] == steps)
        & (results["learning_rate"] == rate)
    ]


def over_trained_runs(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of augmentation runs fine-tuned with more steps or a higher learning rate than the
    study's main budget: the language-confusion contrast."""
    steps, rate = main_budget(results)
    rows = results[results["mixture_design"] == "augmentation"]
    return rows[(rows["training_steps"] > steps) | (rows["learning_rate"] > rate)]


def single_task_runs(results: pd.DataFrame, size: str | None = None) -> pd.DataFrame:
    """Rows of single-task augmentation runs with the paper's language mix and the study's main
    budget, on ``size`` (default: the smallest base model that has such runs) — the paper's main
    design."""
    rows = fine_tuned_runs(results)
    rows = rows[(rows["setting"] == "single") & (rows["seen_languages"] == ",".join(DEFAULT_SEEN))]
    if size is None and len(rows):
        counts = rows.groupby("model_size")["run_id"].nunique()
        size = counts.idxmax()  # the size with the full grid
    return rows[rows["model_size"] == size] if size is not None else rows


def language_by_n_table(results: pd.DataFrame, task: str, metric: str, **filters) -> pd.DataFrame:
    """Languages × n per language, mean over seeds — the shape of the paper's appendix tables."""
    rows = results[(results["task"] == task) & (results["metric"] == metric)]
    for column, value in filters.items():
        rows = rows[rows[column] == value]
    table = rows.pivot_table(index="language", columns="n_per_language", values="value", aggfunc="mean")
    table = table.reindex(language_order(table.index))
    table.columns.name = "n per language"
    return table


def plot_language_curves(results: pd.DataFrame, task: str, metric: str, ax=None, legend: bool = True, **filters):
    """Metric against n per language, one line per language, styled by role."""
    rows = results[(results["task"] == task) & (results["metric"] == metric)]
    for column, value in filters.items():
        rows = rows[rows[column] == value]
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    sns.lineplot(
        data=rows,
        x="n_per_language",
        y="value",
        hue="language",
        style="role",
        hue_order=language_order(rows["language"].unique()),
        style_order=[r for r in ROLE_ORDER if r in set(rows["role"])],
        marker="o",
        errorbar=("ci", 95),
        ax=ax,
    )
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.set_xlabel("examples added per seen language (n, symlog scale)")
    ax.set_ylabel(f"{metric} (0–1)")
    if legend:
        ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize="small")
    elif ax.get_legend() is not None:
        ax.get_legend().remove()
    return ax


# --------------------------------------------------------------------------------------------
# Averages over language groups with 95% intervals over items
# --------------------------------------------------------------------------------------------


def item_table(predictions: pd.DataFrame, run_ids, task: str, metric: str) -> pd.DataFrame:
    """Items × languages of ``metric`` for ``task``, averaged over the given runs (seeds)."""
    rows = predictions[predictions["run_id"].isin(list(run_ids)) & (predictions["task"] == task)]
    return rows.pivot_table(index="item_id", columns="language", values=metric, aggfunc="mean")


def group_estimate(predictions: pd.DataFrame, run_ids, task: str, metric: str, languages, n_boot: int = 1000):
    """The mean of ``metric`` over ``languages`` (runs averaged per item, e.g. seeds) with a 95%
    bootstrap interval resampling item ids jointly across languages."""
    table = item_table(predictions, run_ids, task, metric)[list(languages)]
    value, low, high = bootstrap_ci(table, lambda t: float(t.to_numpy().mean()), n_boot=n_boot)
    return Estimate(value, low, high)


def contrast_estimate(predictions: pd.DataFrame, task: str, metric: str, terms, n_boot: int = 1000):
    """The sum over ``terms`` [(sign, run ids, languages), ...] of sign × the mean of ``metric``
    over those languages (runs averaged per item), with a 95% bootstrap interval resampling item
    ids jointly across every run set and language (items are paired; incomplete items dropped)."""
    tables = {
        str(i): item_table(predictions, ids, task, metric)[list(languages)]
        for i, (_, ids, languages) in enumerate(terms)
    }
    signs = [(str(i), sign) for i, (sign, _, _) in enumerate(terms)]
    paired = pd.concat(tables, axis=1).dropna()
    value, low, high = bootstrap_ci(
        paired, lambda t: float(sum(sign * t[key].to_numpy().mean() for key, sign in signs)), n_boot=n_boot
    )
    return Estimate(value, low, high)


def difference_estimate(
    predictions: pd.DataFrame, runs_a, runs_b, task: str, metric: str, languages, n_boot: int = 1000
):
    """(runs_a minus runs_b) on the mean over ``languages``, items paired across the two."""
    return contrast_estimate(
        predictions, task, metric, [(+1, runs_a, languages), (-1, runs_b, languages)], n_boot=n_boot
    )


def run_ids(results: pd.DataFrame, **where) -> list[str]:
    """Run ids with a tidy row matching every column == value in ``where`` (a multi-task run has
    rows for each of its tasks, so rows are filtered before runs are counted)."""
    rows = results
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return list(rows["run_id"].drop_duplicates())
