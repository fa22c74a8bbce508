"""The world ablation: the default world against each of its ingredients changed one at a time.

A study of this kind (``studies/world-ablation.yaml``) names its settings by its blocks: the block
``default``, and one block per ingredient whose base changes the world or the base model, every
block on the same grid of n and replicates. :func:`run_table` names each run's setting and what it
changes against the default; :func:`run_scores` gives each run's scores per language; and
:func:`estimates` the anchor, seen and unseen averages per setting and n, each with a 95% bootstrap
interval over evaluation items and replicates, and its difference from the default setting.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cltbook.config import RunConfig, StudyConfig, semantic_dict
from cltbook.report import style
from cltbook.report.analysis import language_order
from cltbook.report.estimate import Estimate, fmt
from cltbook.report.metrics import bootstrap_ci

DEFAULT_SETTING = "default"
TASK = "math_reasoning"
HEADLINE = "accuracy_strict_switch_aware"
# The headline without its language check: the prompt language's answer phrase and the right
# number, whatever language the rest of the answer is in.
STRICT = "accuracy_strict"
METRICS = (HEADLINE, STRICT, "language_match")
# Language groups by the roles of each run's own config.
GROUP_ROLES = {"anchor": ("anchor",), "seen": ("seen",), "unseen": ("unseen",), "seen+unseen": ("seen", "unseen")}
# (group, metric) of every estimate: accuracy per group both ways, and how often an answer to a
# non-anchor prompt is in the prompt's language.
ESTIMATES = (
    *((group, metric) for metric in (HEADLINE, STRICT) for group in ("anchor", "seen", "unseen")),
    ("seen+unseen", "language_match"),
)
REPLICATE = ["seed", "data_seed"]
N_BOOT = 1000


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def changes(config: RunConfig, default: RunConfig) -> dict[str, Any]:
    """The fields (dotted paths) whose value in ``config`` differs from ``default``, with it."""
    mine, theirs = _flat(semantic_dict(config)), _flat(semantic_dict(default))
    return {path: value for path, value in mine.items() if value != theirs[path]}


def run_table(study: StudyConfig) -> pd.DataFrame:
    """One row per run: run_id, setting (its block's name), changes (the fields it changes against
    the default setting's run with the same n and replicate), n_per_language, seed, data_seed.

    Refuses a study whose runs are not each named by exactly one block, that has no block named
    ``default``, or whose ingredient settings change anything but the world or the base model."""
    if study.grid:
        raise ValueError(
            f"study {study.name}: a top-level grid makes runs that no block names; give every setting its own block"
        )
    if DEFAULT_SETTING not in [block.name for block in study.blocks]:
        raise ValueError(f"study {study.name}: no block named {DEFAULT_SETTING!r} to compare the others with")
    settings: dict[str, tuple[str, RunConfig]] = {}
    for block in study.blocks:
        for config in dataclasses.replace(study, blocks=[block]).expand():
            if config.run_id in settings:
                raise ValueError(
                    f"study {study.name}: blocks {settings[config.run_id][0]!r} and {block.name!r} "
                    f"reach the same run ({config.label}); an ingredient must change the world "
                    "or the base model"
                )
            settings[config.run_id] = (block.name, config)
    defaults = {(c.n_per_language, c.seed, c.data_seed): c for name, c in settings.values() if name == DEFAULT_SETTING}
    rows = []
    for run_id, (name, config) in settings.items():
        default = defaults.get((config.n_per_language, config.seed, config.data_seed))
        if default is None:
            raise ValueError(
                f"study {study.name}: block {name!r} has a run ({config.label}) with no default "
                "counterpart at the same n, seed and data_seed"
            )
        changed = changes(config, default)
        if name != DEFAULT_SETTING and not changed:
            raise ValueError(f"study {study.name}: block {name!r} changes nothing against the default")
        outside = [path for path in changed if not path.startswith(("world.", "base_model."))]
        if outside:
            raise ValueError(
                f"study {study.name}: block {name!r} changes {', '.join(outside)}; an ingredient "
                "changes the world or the base model only"
            )
        rows.append(
            {
                "run_id": run_id,
                "setting": name,
                "changes": ", ".join(f"{path} = {value}" for path, value in changed.items()),
                "n_per_language": config.n_per_language,
                "seed": config.seed,
                "data_seed": config.data_seed,
            }
        )
    return pd.DataFrame(rows)


def run_scores(metrics: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's :data:`METRICS` per language (one row per run and language, a column per metric)
    beside its setting, from the tidy metrics table and :func:`run_table`."""
    rows = metrics[(metrics["task"] == TASK) & metrics["metric"].isin(METRICS) & metrics["run_id"].isin(runs["run_id"])]
    wide = rows.pivot_table(index=["run_id", "language", "role"], columns="metric", values="value").reset_index()
    wide.columns.name = None
    missing = [metric for metric in METRICS if metric not in wide]
    if missing:
        raise ValueError(f"the metrics table lacks {', '.join(missing)} for {TASK}")
    wide = runs.merge(wide, on="run_id", validate="one_to_many")
    # The runs' own order, then the paper's language order within a run.
    run_position = {run_id: i for i, run_id in enumerate(runs["run_id"])}
    language_position = {code: i for i, code in enumerate(language_order(wide["language"].unique()))}
    wide = wide.sort_values(
        ["run_id", "language"],
        key=lambda column: column.map(run_position if column.name == "run_id" else language_position),
    )
    return wide[[*runs.columns, "language", "role", *METRICS]].reset_index(drop=True)


def _languages(scores: pd.DataFrame, run_ids: list[str], group: str) -> list[str]:
    """The languages of ``group`` in these runs, which must agree on them."""
    rows = scores[scores["run_id"].isin(run_ids) & scores["role"].isin(GROUP_ROLES[group])]
    per_run = {frozenset(languages) for languages in rows.groupby("run_id")["language"].agg(set)}
    if len(per_run) != 1:
        raise ValueError(f"the runs {', '.join(run_ids)} disagree on their {group} languages")
    return language_order(per_run.pop())


def _seed_item_values(predictions: pd.DataFrame, run_ids: list[str], metric: str, languages: list[str]) -> np.ndarray:
    """runs × items × languages of ``metric``, on the items every run answered in every language."""
    rows = predictions[predictions["run_id"].isin(run_ids) & (predictions["task"] == TASK)]
    table = rows.pivot_table(index="item_id", columns=["run_id", "language"], values=metric, aggfunc="mean")
    absent = [f"{run} {code}" for run in run_ids for code in languages if (run, code) not in table.columns]
    if absent:
        raise ValueError(f"no {metric} predictions for {', '.join(absent)}")
    table = table[[(run, code) for run in run_ids for code in languages]].dropna()
    return table.to_numpy(dtype=float).reshape(len(table), len(run_ids), len(languages)).transpose(1, 0, 2)


def estimates(predictions: pd.DataFrame, scores: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Every (group, metric) of :data:`ESTIMATES` per setting and n: the mean over the group's
    languages, items and replicates, with a 95% bootstrap interval that resamples replicates and
    items (whole rows: an item's languages stay together), and the difference from the default
    setting at the same n, replicates paired by (seed, data_seed) and items by item id.

    ``predictions``: per-item predictions (run_id, task, language, item_id, metric columns);
    ``scores``: :func:`run_scores`. One row per setting, n, group and metric: setting, changes,
    n_per_language, group, languages, metric, replicates, items, value, low, high, and
    minus_default, minus_default_low, minus_default_high (empty for the default setting)."""
    runs = scores.drop_duplicates("run_id")
    rows = []
    for (setting, n), replicates in runs.groupby(["setting", "n_per_language"], sort=False):
        replicates = replicates.sort_values(REPLICATE)
        default = runs[(runs["setting"] == DEFAULT_SETTING) & (runs["n_per_language"] == n)].sort_values(REPLICATE)
        if default[REPLICATE].values.tolist() != replicates[REPLICATE].values.tolist():
            raise ValueError(
                f"setting {setting!r} at n = {n} has replicates (seed, data_seed) "
                f"{replicates[REPLICATE].values.tolist()}, the default {default[REPLICATE].values.tolist()}: "
                "differences pair them"
            )
        ids = list(replicates["run_id"])
        involved = ids if setting == DEFAULT_SETTING else ids + list(default["run_id"])
        for group, metric in ESTIMATES:
            languages = _languages(scores, involved, group)
            values = _seed_item_values(predictions, involved, metric, languages)
            own, base = values[: len(ids)], values[len(ids) :]
            value, low, high = bootstrap_ci(own, lambda v: float(v.mean()), n_boot=n_boot)
            row = {
                "setting": setting,
                "changes": replicates["changes"].iloc[0],
                "n_per_language": n,
                "group": group,
                "languages": ",".join(languages),
                "metric": metric,
                "replicates": len(ids),
                "items": own.shape[1],
                "value": value,
                "low": low,
                "high": high,
                "minus_default": np.nan,
                "minus_default_low": np.nan,
                "minus_default_high": np.nan,
            }
            if setting != DEFAULT_SETTING:
                width = len(languages)
                paired = np.concatenate([own, base], axis=2)  # one replicate row holds both settings
                row["minus_default"], row["minus_default_low"], row["minus_default_high"] = bootstrap_ci(
                    paired, lambda v, width=width: float(v[..., :width].mean() - v[..., width:].mean()), n_boot=n_boot
                )
            rows.append(row)
    return pd.DataFrame(rows)


def summary_table(estimates: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Setting × n, a column per group of ``metric`` and one per difference from the default, each
    cell formatted by :func:`cltbook.report.estimate.fmt` (the differences are empty for the default)."""
    rows = estimates[estimates["metric"] == metric]
    if rows.empty:
        raise ValueError(f"no estimates of {metric}; known: {', '.join(estimates['metric'].unique())}")
    cells = {}
    for (setting, n), setting_rows in rows.groupby(["setting", "n_per_language"], sort=False):
        cells[setting, n] = {}
        for r in setting_rows.itertuples():
            label = f"{r.group} ({r.languages.replace(',', ', ')})"
            cells[setting, n][label] = fmt(Estimate(r.value, r.low, r.high))
            cells[setting, n][f"{label} minus default"] = (
                ""
                if setting == DEFAULT_SETTING
                else fmt(Estimate(r.minus_default, r.minus_default_low, r.minus_default_high))
            )
    table = pd.DataFrame.from_dict(cells, orient="index")
    table.index.names = ["setting", "n per language"]
    return table


def plot(estimates: pd.DataFrame, metric: str = HEADLINE, groups=("seen", "unseen")):
    """Point estimates with their 95% intervals: a panel per group, settings along x, one marker
    per n (dodged)."""
    rows = estimates[estimates["metric"] == metric]
    settings = list(rows["setting"].unique())
    ns = sorted(rows["n_per_language"].unique())
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 4), sharey=True, squeeze=False)
    for ax, group in zip(axes[0], groups):
        for i, n in enumerate(ns):
            points = (
                rows[(rows["group"] == group) & (rows["n_per_language"] == n)].set_index("setting").reindex(settings)
            )
            x = np.arange(len(settings)) + (i - (len(ns) - 1) / 2) * 0.25
            ax.errorbar(
                x,
                points["value"],
                yerr=[points["value"] - points["low"], points["high"] - points["value"]],
                fmt="o",
                capsize=3,
                label=f"n = {n}",
            )
        ax.set_xticks(range(len(settings)), settings, rotation=30, ha="right")
        languages = rows.loc[rows["group"] == group, "languages"].iloc[0].split(",")
        ax.set_title(style.group_label(group, languages))
    axes[0][0].set_ylabel(f"{metric} (0–1)")
    axes[0][0].set_ylim(bottom=0)
    axes[0][-1].legend(title="examples per seen language", fontsize="small")
    fig.tight_layout()
    return fig
