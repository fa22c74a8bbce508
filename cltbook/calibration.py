"""Checks that the miniature world is in the regime the study needs, each with a 95% interval.

The world chapter shows these; every check is computed from a study's collected results (the
world card and the per-item predictions), never from a model:

- ``loss_below_unigram``: each base model's held-out loss beats a unigram model, per language;
- ``loss_falls_with_size``: the larger base model has the lower held-out loss, per language;
- ``english_in_range``: after English-only fine-tuning, the interval of English's headline score
  lies inside :data:`ENGLISH_RANGE` (room to move, neither floor nor ceiling);
- ``seen_beats_base`` / ``unseen_beats_base``: after English-only fine-tuning, the seen (unseen)
  average beats the un-fine-tuned base model prompted k-shot in each language; the interval of
  the difference must exclude 0.

Intervals over evaluation items come from :func:`cltbook.metrics.bootstrap_ci`, which resamples
item ids jointly across languages (and across the two runs of a difference), because evaluation
items are parallel; runs replicated over seeds are averaged per item first. Loss intervals are
the card's (a bootstrap over held-out documents).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cltbook.analysis import item_table
from cltbook.metrics import bootstrap_ci
from cltbook.report import Estimate
from cltbook.world.tasks import TASKS

ENGLISH_RANGE = (0.15, 0.85)
N_BOOT = 1000


def headline(task: str) -> str:
    """The headline metric of a world task (switch-aware: an answer in another language fails)."""
    return TASKS[task].headline


def _runs(results: pd.DataFrame, **where) -> pd.DataFrame:
    """One row per run matching ``where`` (columns of the tidy results table)."""
    rows = results.drop_duplicates("run_id")
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows


def english_only_runs(results: pd.DataFrame) -> pd.DataFrame:
    """Single-task augmentation runs with no multilingual data (n = 0) and the default mix."""
    return _runs(results, mixture_design="augmentation", setting="single", n_per_language=0)


def base_runs(results: pd.DataFrame) -> pd.DataFrame:
    return _runs(results, mixture_design="none")


def _interval(table: pd.DataFrame, statistic, seed: int = 0) -> Estimate:
    value, low, high = bootstrap_ci(table, statistic, n_boot=N_BOOT, seed=seed)
    return Estimate(value, low, high)


def _check(check: str, task: str, size: str, estimate: Estimate, holds: bool, target: str, **extra) -> dict:
    return {"check": check, "task": task, "model_size": size, "estimate": estimate.value,
            "ci_low": estimate.low, "ci_high": estimate.high, "target": target,
            "verdict": "holds" if holds else "does not hold", **extra}


def loss_checks(card_loss: pd.DataFrame) -> pd.DataFrame:
    """Held-out loss against the unigram baseline, and against the next smaller base model."""
    rows = []
    loss = card_loss.set_index(["base_model", "language", "predictor"])
    models = card_loss.drop_duplicates("base_model").sort_values("non_embedding_parameters")
    for _, model in models.iterrows():
        for language in sorted(card_loss["language"].unique()):
            own = loss.loc[(model["base_model"], language, "model")]
            unigram = loss.loc[(model["base_model"], language, "unigram")]
            rows.append(_check(
                "loss_below_unigram", "pretraining", model["model_size"],
                Estimate(own["loss"], own["ci_low"], own["ci_high"]), own["ci_high"] < unigram["ci_low"],
                f"below the unigram loss {unigram['loss']:.2f}", language=language))
    for (_, smaller), (_, larger) in zip(models.iloc[:-1].iterrows(), models.iloc[1:].iterrows()):
        for language in sorted(card_loss["language"].unique()):
            small = loss.loc[(smaller["base_model"], language, "model")]
            large = loss.loc[(larger["base_model"], language, "model")]
            rows.append(_check(
                "loss_falls_with_size", "pretraining", larger["model_size"],
                Estimate(large["loss"], large["ci_low"], large["ci_high"]), large["ci_high"] < small["ci_low"],
                f"below {smaller['model_size']}'s {small['loss']:.3f} "
                f"({small['ci_low']:.3f} to {small['ci_high']:.3f})", language=language))
    return pd.DataFrame(rows)


def transfer_checks(results: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """English in range after English-only tuning, and seen/unseen averages against the base."""
    rows = []
    tuned, base = english_only_runs(results), base_runs(results)
    for (task, size), group in tuned.groupby(["task", "model_size"]):
        metric = headline(task)
        table = item_table(predictions, group["run_id"], task, metric)
        english = _interval(table[["en"]], lambda t: float(np.nanmean(t["en"])))
        low, high = ENGLISH_RANGE
        rows.append(_check("english_in_range", task, size, english,
                           english.low >= low and english.high <= high, f"inside [{low}, {high}]",
                           metric=metric, runs=len(group)))
        base_group = base[(base["model_size"] == size)]
        if base_group.empty:
            continue
        base_table = item_table(predictions, base_group["run_id"], task, metric)
        roles = results[results["run_id"].isin(group["run_id"])].drop_duplicates("language").set_index("language")["role"]
        seen, unseen = sorted(roles[roles == "seen"].index), sorted(roles[roles == "unseen"].index)
        paired = pd.concat({"tuned": table, "base": base_table}, axis=1).dropna()
        for name, languages in (("seen_beats_base", seen), ("unseen_beats_base", unseen)):
            def difference(t, languages=languages):
                return float(t["tuned"][languages].to_numpy().mean() - t["base"][languages].to_numpy().mean())
            estimate = _interval(paired, difference)
            rows.append(_check(name, task, size, estimate, estimate.low > 0,
                               "difference above 0 (tuned minus base)", metric=metric, runs=len(group)))
    return pd.DataFrame(rows)


def calibration_table(results: pd.DataFrame, predictions: pd.DataFrame, card_loss: pd.DataFrame) -> pd.DataFrame:
    """Every check, one row each: estimate, interval, target and verdict."""
    return pd.concat([loss_checks(card_loss), transfer_checks(results, predictions)], ignore_index=True)
