"""Checks that the miniature world is in the regime the study needs, each with a 95% interval.

The regime: post-training elicits what pretraining built. English-only fine-tuning brings English
up, lifts the other languages above the base model and keeps their answers in the prompt's
language; examples in the seen languages lift them further, and the unseen ones with them;
over-training on English pushes answers into English. The world chapter shows these checks; every
one is computed from a study's collected results (the world card and the per-item predictions),
never from a model:

- ``loss_below_unigram``: each base model's held-out loss beats a unigram model, per language;
- ``loss_falls_with_size``: the larger base model has the lower held-out loss, per language;
- ``english_elicited``: after English-only fine-tuning, English's headline score reaches
  :data:`ENGLISH_TARGET` of its task;
- ``seen_beats_base`` / ``unseen_beats_base``: after English-only fine-tuning, the seen (unseen)
  average beats the un-fine-tuned base model; the interval of the difference must exclude 0;
- ``answers_in_prompt_language``: after English-only fine-tuning, at least
  :data:`IN_LANGUAGE_TARGET` of the non-English answers are in the prompt's language;
- ``seen_at_largest_n``: the seen average at the grid's largest n reaches :data:`SEEN_TARGET`
  (math);
- ``seen_plateau_inside_grid``: the n where the seed-averaged seen curve reaches 95% of its fitted
  gain lies inside the grid (a point estimate; :func:`cltbook.report.metrics.samples_to_plateau`);
- ``seen_rises_with_n`` / ``unseen_rises_with_n``: the seen (unseen) average at the largest n
  minus at n = 0; the interval must exclude 0;
- ``confusion_when_over_trained``: after over-training on English (more steps or a higher
  learning rate than the study's main budget), fewer than :data:`CONFUSION_BELOW` of the
  non-English answers are in the prompt's language.

Level targets are met by the point estimate (its interval is shown beside it); a difference must
have its whole interval on the target's side. Intervals over evaluation items come from
:func:`cltbook.report.metrics.bootstrap_ci`, which resamples item ids jointly across languages (and
across the two runs of a difference), because evaluation items are parallel; runs replicated over
seeds are averaged per item first. Loss intervals are the card's (a bootstrap over held-out
documents).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cltbook.report.analysis import DEFAULT_SEEN, fine_tuned_runs, item_table, over_trained_runs
from cltbook.report.estimate import Estimate
from cltbook.report.metrics import bootstrap_ci, samples_to_plateau
from cltbook.tasks import TASKS

# Targets of the elicitation regime (module docstring), from what the world's design is meant to
# produce; a target is never moved to fit a result.
ENGLISH_TARGET = {"math_reasoning": 0.85, "summarization": 0.5, "instruction_following": 0.5}
IN_LANGUAGE_TARGET = 0.6
SEEN_TARGET = {"math_reasoning": 0.8}
CONFUSION_BELOW = 0.2
LANGUAGE_MATCH = "language_match"
N_BOOT = 1000


def headline(task: str) -> str:
    """The headline metric of a task (switch-aware: an answer in another language fails)."""
    return TASKS[task].headline


def language_blind(task: str) -> str:
    """The headline's twin without the language check: the gap is answers in the wrong language."""
    return TASKS[task].language_blind


def _runs(results: pd.DataFrame, **where) -> pd.DataFrame:
    """One row per run matching ``where`` (columns of the tidy results table)."""
    rows = results.drop_duplicates("run_id")
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows


def english_only_runs(results: pd.DataFrame) -> pd.DataFrame:
    """Single-task runs with the main budget, no multilingual data (n = 0) and the default mix."""
    return _runs(fine_tuned_runs(results), setting="single", n_per_language=0)


def base_runs(results: pd.DataFrame) -> pd.DataFrame:
    return _runs(results, mixture_design="none")


def _interval(table: pd.DataFrame, statistic, seed: int = 0) -> Estimate:
    value, low, high = bootstrap_ci(table, statistic, n_boot=N_BOOT, seed=seed)
    return Estimate(value, low, high)


def _check(check: str, task: str, size: str, estimate: Estimate, holds: bool, target: str, **extra) -> dict:
    return {
        "check": check,
        "task": task,
        "model_size": size,
        "estimate": estimate.value,
        "ci_low": estimate.low,
        "ci_high": estimate.high,
        "target": target,
        "verdict": "holds" if holds else "does not hold",
        **extra,
    }


def loss_checks(card_loss: pd.DataFrame) -> pd.DataFrame:
    """Held-out loss against the unigram baseline, and against the next smaller base model."""
    rows = []
    loss = card_loss.set_index(["base_model", "language", "predictor"])
    models = card_loss.drop_duplicates("base_model").sort_values("non_embedding_parameters")
    for _, model in models.iterrows():
        for language in sorted(card_loss["language"].unique()):
            own = loss.loc[(model["base_model"], language, "model")]
            unigram = loss.loc[(model["base_model"], language, "unigram")]
            rows.append(
                _check(
                    "loss_below_unigram",
                    "pretraining",
                    model["model_size"],
                    Estimate(own["loss"], own["ci_low"], own["ci_high"]),
                    own["ci_high"] < unigram["ci_low"],
                    f"below the unigram loss {unigram['loss']:.2f}",
                    language=language,
                )
            )
    for (_, smaller), (_, larger) in zip(models.iloc[:-1].iterrows(), models.iloc[1:].iterrows()):
        for language in sorted(card_loss["language"].unique()):
            small = loss.loc[(smaller["base_model"], language, "model")]
            large = loss.loc[(larger["base_model"], language, "model")]
            rows.append(
                _check(
                    "loss_falls_with_size",
                    "pretraining",
                    larger["model_size"],
                    Estimate(large["loss"], large["ci_low"], large["ci_high"]),
                    large["ci_high"] < small["ci_low"],
                    f"below {smaller['model_size']}'s {small['loss']:.3f} "
                    f"({small['ci_low']:.3f} to {small['ci_high']:.3f})",
                    language=language,
                )
            )
    return pd.DataFrame(rows)


def _roles(results: pd.DataFrame, run_ids) -> dict[str, list[str]]:
    roles = results[results["run_id"].isin(run_ids)].drop_duplicates("language").set_index("language")["role"]
    return {role: sorted(roles[roles == role].index) for role in ("seen", "unseen")}


def _mean_of(languages):
    return lambda t: float(t[languages].to_numpy().mean())


def _non_english_match(predictions: pd.DataFrame, run_ids, task: str, roles: dict[str, list[str]]) -> Estimate:
    """The share of seen and unseen answers in the prompt's language, with its interval."""
    others = roles["seen"] + roles["unseen"]
    matched = item_table(predictions, run_ids, task, LANGUAGE_MATCH)
    return _interval(matched[others], _mean_of(others))


def _difference(languages):
    return lambda t: float(t["a"][languages].to_numpy().mean() - t["b"][languages].to_numpy().mean())


def transfer_checks(results: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Every check of the regime on fine-tuned runs (module docstring), per task and model size."""
    rows = []
    tuned, base = english_only_runs(results), base_runs(results)
    for (task, size), group in tuned.groupby(["task", "model_size"]):
        metric = headline(task)
        table = item_table(predictions, group["run_id"], task, metric)
        english = _interval(table[["en"]], lambda t: float(np.nanmean(t["en"])))
        target = ENGLISH_TARGET[task]
        rows.append(
            _check(
                "english_elicited",
                task,
                size,
                english,
                english.value >= target,
                f"at least {target}",
                metric=metric,
                runs=len(group),
            )
        )
        roles = _roles(results, group["run_id"])
        in_language = _non_english_match(predictions, group["run_id"], task, roles)
        rows.append(
            _check(
                "answers_in_prompt_language",
                task,
                size,
                in_language,
                in_language.value >= IN_LANGUAGE_TARGET,
                f"at least {IN_LANGUAGE_TARGET}",
                metric=LANGUAGE_MATCH,
                runs=len(group),
            )
        )
        base_group = base[(base["model_size"] == size)]
        if base_group.empty:
            continue
        base_table = item_table(predictions, base_group["run_id"], task, metric)
        paired = pd.concat({"a": table, "b": base_table}, axis=1).dropna()
        for name, role in (("seen_beats_base", "seen"), ("unseen_beats_base", "unseen")):
            estimate = _interval(paired, _difference(roles[role]))
            rows.append(
                _check(
                    name,
                    task,
                    size,
                    estimate,
                    estimate.low > 0,
                    "difference above 0 (tuned minus base)",
                    metric=metric,
                    runs=len(group),
                )
            )
    rows += _checks_against_n(results, predictions)
    rows += _confusion_checks(results, predictions)
    return pd.DataFrame(rows)


def _plateau_check(results, predictions, group: pd.DataFrame, task: str, size: str) -> dict | None:
    """Where the seen average stops rising: n at 95% of the fitted gain of y = a − b·exp(−n/c)
    (:func:`cltbook.report.metrics.samples_to_plateau`), from the seed-averaged seen average at
    each n; identified only when the bend lies inside the grid. A point estimate: the fit is
    refused on many resamples of a short curve, so no interval is given."""
    points = sorted(group["n_per_language"].unique())
    if len(points) < 4:
        return None
    metric = headline(task)
    seen_means = []
    for n in points:
        runs = group[group["n_per_language"] == n]["run_id"]
        seen = _roles(results, runs)["seen"]
        seen_means.append(float(item_table(predictions, runs, task, metric)[seen].to_numpy().mean()))
    fit = samples_to_plateau(points, seen_means)
    return _check(
        "seen_plateau_inside_grid",
        task,
        size,
        Estimate(fit.n_plateau, reason="a point estimate from the fitted curve"),
        fit.identified,
        f"identified between n = {points[1]:g} and {points[-1]:g}" + ("" if fit.identified else f" ({fit.refusal})"),
        metric=metric,
        runs=len(group),
    )


def _checks_against_n(results: pd.DataFrame, predictions: pd.DataFrame) -> list[dict]:
    """The seen average at the largest n and where it stops rising, and the seen and unseen
    averages' rise from n = 0 to the largest n."""
    rows = []
    single = _runs(fine_tuned_runs(results), setting="single", seen_languages=",".join(DEFAULT_SEEN))
    for (task, size), group in single.groupby(["task", "model_size"]):
        largest = group["n_per_language"].max()
        if largest == 0 or (group["n_per_language"] == 0).sum() == 0:
            continue
        metric = headline(task)
        top, zero = group[group["n_per_language"] == largest], group[group["n_per_language"] == 0]
        roles = _roles(results, top["run_id"])
        plateau = _plateau_check(results, predictions, group, task, size)
        if plateau is not None:
            rows.append(plateau)
        table = item_table(predictions, top["run_id"], task, metric)
        if task in SEEN_TARGET:
            seen = _interval(table[roles["seen"]], _mean_of(roles["seen"]))
            rows.append(
                _check(
                    "seen_at_largest_n",
                    task,
                    size,
                    seen,
                    seen.value >= SEEN_TARGET[task],
                    f"at least {SEEN_TARGET[task]} at n = {largest}",
                    metric=metric,
                    runs=len(top),
                )
            )
        paired = pd.concat({"a": table, "b": item_table(predictions, zero["run_id"], task, metric)}, axis=1).dropna()
        for role in ("seen", "unseen"):
            rise = _interval(paired, _difference(roles[role]))
            rows.append(
                _check(
                    f"{role}_rises_with_n",
                    task,
                    size,
                    rise,
                    rise.low > 0,
                    f"difference above 0 (n = {largest} minus n = 0)",
                    metric=metric,
                    runs=len(top),
                )
            )
    return rows


def _confusion_checks(results: pd.DataFrame, predictions: pd.DataFrame) -> list[dict]:
    """Over-trained English-only runs: the share of non-English answers in the prompt's language."""
    rows = []
    over = _runs(over_trained_runs(results), setting="single", n_per_language=0)
    for (task, size), group in over.groupby(["task", "model_size"]):
        estimate = _non_english_match(predictions, group["run_id"], task, _roles(results, group["run_id"]))
        rows.append(
            _check(
                "confusion_when_over_trained",
                task,
                size,
                estimate,
                estimate.value < CONFUSION_BELOW,
                f"below {CONFUSION_BELOW}",
                metric=LANGUAGE_MATCH,
                runs=len(group),
            )
        )
    return rows


def calibration_table(results: pd.DataFrame, predictions: pd.DataFrame, card_loss: pd.DataFrame) -> pd.DataFrame:
    """Every check, one row each: estimate, interval, target and verdict."""
    return pd.concat([loss_checks(card_loss), transfer_checks(results, predictions)], ignore_index=True)
