"""The paper's other axes as contrasts of a study's runs: model scale, multi-task training, the
script of the added languages, and the noise floor of replicated runs.

Each axis compares two sets of runs that differ in that axis only, on the mean of the task's
headline metric over a language group, items paired across the two sets
(:func:`cltbook.report.analysis.difference_estimate`, a 95% bootstrap interval over items, seeds
averaged per item first). :func:`axis_contrasts` gives one row per axis, task, contrast and
language group; :func:`forest` draws them in one figure, coloured by language group.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from cltbook.config import MODEL_SIZES
from cltbook.report import analysis, calibration, style
from cltbook.tasks import TASKS

AXES = ("model scale", "multi-task", "script", "noise floor")
AXIS_COLUMNS = ("axis", "task", "contrast", "group", "value", "low", "high")
ROLE_GROUPS = ("anchor", "seen", "unseen")
# The script axis moves languages between seen and unseen, so it averages over script groups.
SCRIPT_GROUPS = ("anchor", "latin", "non_latin")
SCRIPT_MIXES = ("es,fr", "ja,zh")  # Latin-only and non-Latin-only mixes, as the paper's script experiment


def _ns(rows: pd.DataFrame, **where) -> set[int]:
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return {int(n) for n in rows["n_per_language"].unique()}


def _largest_n_then_size(pair: tuple[int, str]) -> tuple[int, int]:
    """Sort key of (n, base model size) pairs: the largest n, then the largest known size."""
    n, size = pair
    return n, list(MODEL_SIZES).index(size) if size in MODEL_SIZES else -1


def _tasks(rows: pd.DataFrame) -> list[str]:
    present = set(rows["task"])
    return [task for task in TASKS if task in present]


def _paper_mix(tuned: pd.DataFrame, setting: str) -> pd.DataFrame:
    return tuned[(tuned["setting"] == setting) & (tuned["seen_languages"] == ",".join(analysis.DEFAULT_SEEN))]


def _scale(tuned: pd.DataFrame) -> Iterator[tuple]:
    """The largest base model minus the smallest, single-task, seed 0, at the largest n both have."""
    single = _paper_mix(tuned, "single")
    for task in _tasks(single):
        present = set(single.loc[single["task"] == task, "model_size"])
        sizes = [size for size in MODEL_SIZES if size in present]  # smallest first
        if len(sizes) < 2:
            continue
        small, large = sizes[0], sizes[-1]
        shared = _ns(single, task=task, model_size=small) & _ns(single, task=task, model_size=large)
        if not shared:
            continue
        n = max(shared)
        large_ids, small_ids = (
            analysis.run_ids(single, task=task, model_size=size, n_per_language=n, seed=0) for size in (large, small)
        )
        yield "model scale", task, f"{large} minus {small} model, n = {n}", large_ids, small_ids, ROLE_GROUPS


def _multi_task(tuned: pd.DataFrame) -> Iterator[tuple]:
    """Multi-task minus single-task (seed 0), on the same base model, at the largest n both have."""
    single, multi = _paper_mix(tuned, "single"), _paper_mix(tuned, "multi")
    for task in _tasks(multi):
        pairs = [
            (n, size)
            for size in set(multi.loc[multi["task"] == task, "model_size"])
            for n in _ns(multi, task=task, model_size=size) & _ns(single, task=task, model_size=size, seed=0)
        ]
        if not pairs:
            continue
        n, size = max(pairs, key=_largest_n_then_size)
        multi_ids = analysis.run_ids(multi, task=task, model_size=size, n_per_language=n)
        single_ids = analysis.run_ids(single, task=task, model_size=size, n_per_language=n, seed=0)
        yield "multi-task", task, f"multi minus single task, {size}, n = {n}", multi_ids, single_ids, ROLE_GROUPS


def _script(tuned: pd.DataFrame) -> Iterator[tuple]:
    """The non-Latin-only mix minus the Latin-only mix, at the largest n > 0 both have."""
    latin_mix, non_latin_mix = SCRIPT_MIXES
    single = tuned[tuned["setting"] == "single"]
    latin, non_latin = (single[single["seen_languages"] == mix] for mix in SCRIPT_MIXES)
    for task in _tasks(pd.concat([latin, non_latin])):
        pairs = [
            (n, size)
            for size in set(latin["model_size"]) & set(non_latin["model_size"])
            for n in _ns(latin, task=task, model_size=size) & _ns(non_latin, task=task, model_size=size)
            if n > 0
        ]
        if not pairs:
            continue
        n, size = max(pairs, key=_largest_n_then_size)
        non_latin_ids, latin_ids = (
            analysis.run_ids(rows, task=task, model_size=size, n_per_language=n) for rows in (non_latin, latin)
        )
        contrast = f"{non_latin_mix} mix minus {latin_mix} mix, {size}, n = {n}"
        yield "script", task, contrast, non_latin_ids, latin_ids, SCRIPT_GROUPS


def _noise_floor(tuned: pd.DataFrame) -> Iterator[tuple]:
    """Each further seed of a replicated single-task setting minus its first seed."""
    single = _paper_mix(tuned, "single")
    seeds = single.groupby(["task", "model_size", "n_per_language"])["seed"].unique()
    for (task, size, n), replicates in seeds.items():
        first, *others = sorted(int(seed) for seed in replicates)
        setting = {"task": task, "model_size": size, "n_per_language": n}
        for seed in others:
            yield (
                "noise floor",
                task,
                f"seed {seed} minus seed {first}, {size}, n = {int(n)}",
                analysis.run_ids(single, **setting, seed=seed),
                analysis.run_ids(single, **setting, seed=first),
                ROLE_GROUPS,
            )


def axis_contrasts(results: pd.DataFrame, predictions: pd.DataFrame, n_boot: int = 1000) -> pd.DataFrame:
    """Every axis's contrasts of a study's runs (fine-tuned with the study's main budget): one row
    per axis, task, contrast and language group, in the order of :data:`AXES`.

    ``results`` and ``predictions`` are a study's collected tables. Columns: :data:`AXIS_COLUMNS`,
    where ``contrast`` names the two sets of runs, ``group`` is a key of
    :data:`cltbook.report.analysis.LANGUAGE_GROUPS`, and ``value``, ``low`` and ``high`` are the
    difference of the group's mean of the task's headline metric with its 95% interval. An axis
    the study has no runs for has no rows.
    """
    tuned = analysis.fine_tuned_runs(results)
    rows = []
    for axis in (_scale, _multi_task, _script, _noise_floor):
        for name, task, contrast, plus, minus, groups in axis(tuned):
            metric = calibration.headline(task)
            for group in groups:
                languages = analysis.LANGUAGE_GROUPS[group]
                estimate = analysis.difference_estimate(predictions, plus, minus, task, metric, languages, n_boot)
                rows.append(
                    {
                        "axis": name,
                        "task": task,
                        "contrast": contrast,
                        "group": group,
                        "value": estimate.value,
                        "low": estimate.low,
                        "high": estimate.high,
                    }
                )
    return pd.DataFrame(rows, columns=list(AXIS_COLUMNS))


def forest(contrasts: pd.DataFrame):
    """Every row of :func:`axis_contrasts` as a point with its 95% interval, grouped by axis and
    coloured by language group."""
    missing = set(AXIS_COLUMNS) - set(contrasts.columns)
    if missing:
        raise ValueError(f"axis contrasts lack columns {sorted(missing)} (see axis_contrasts)")
    unknown = set(contrasts["group"]) - set(style.GROUP_COLOURS)
    if unknown:
        raise ValueError(f"language groups {sorted(unknown)} have no colour (known: {sorted(style.GROUP_COLOURS)})")
    rows = contrasts.assign(
        label=[f"{row.axis}: {row.task.replace('_', ' ')}, {row.contrast}" for row in contrasts.itertuples()],
        colour=contrasts["group"].map(style.GROUP_COLOURS),
    )
    present = [group for group in style.GROUP_LABELS if group in set(contrasts["group"])]
    legend = {style.GROUP_LABELS[group]: style.GROUP_COLOURS[group] for group in present}
    return style.forest(
        rows,
        legend,
        "difference on the task's headline metric (95% interval over items)",
        separate_by="axis",
    )
