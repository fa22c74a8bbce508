"""The world ablation: its study changes one ingredient per setting, and its estimates are right."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from cltbook.config import WorldConfig, load_study
from cltbook.report import ablation

STUDY = ROOT / "studies" / "world-ablation.yaml"
# Each ingredient setting and the only world / base model fields it may change.
INGREDIENTS = {
    "default": {},
    "hard-numbers": {"world.max_start": 50, "world.max_amount": 30},
    "no-task-documents": {
        "world.math_task_share": 0,
        "world.summarization_task_share": 0,
        "world.instruction_task_share": 0,
    },
    "native-markers": {"world.markers": "native"},
    "no-anchors": {"world.parallel_share": 0},
    "tiny-model": {"base_model.size": "tiny"},
}


def _differences(config, default) -> dict:
    """world / base_model fields that differ, computed apart from cltbook.report.ablation."""
    out = {}
    for section in ("world", "base_model"):
        mine, theirs = dataclasses.asdict(getattr(config, section)), dataclasses.asdict(getattr(default, section))
        out.update({f"{section}.{name}": value for name, value in mine.items() if value != theirs[name]})
    return out


def test_the_study_holds_every_ingredient_with_both_mixtures_and_three_replicates():
    study = load_study(STUDY)
    configs = {c.run_id: c for c in study.expand()}
    runs = ablation.run_table(study)
    assert list(runs["setting"].unique()) == list(INGREDIENTS)
    assert set(runs["run_id"]) == set(configs) and runs["run_id"].is_unique
    for setting, rows in runs.groupby("setting"):
        grid = {(r.n_per_language, r.seed, r.data_seed) for r in rows.itertuples()}
        assert grid == {(n, s, s) for n in (0, 100) for s in (0, 1, 2)}, setting
    default = configs[runs.loc[runs["setting"] == "default", "run_id"].iloc[0]]
    assert default.world == WorldConfig()
    # the default study's main setting: its base model and fine-tuning recipe
    main = load_study(STUDY.with_name("default.yaml")).expand()[0]
    assert default.tasks == ("math_reasoning",)
    assert (default.base_model, default.mixture.anchor_examples) == (main.base_model, main.mixture.anchor_examples)
    recipe = ("method", "learning_rate", "max_steps", "lora_rank")
    assert [getattr(default.training, f) for f in recipe] == [getattr(main.training, f) for f in recipe]
    assert (default.evaluation.items_per_language, default.evaluation.max_new_tokens) == (64, 96)


def test_each_ingredient_differs_from_the_default_in_exactly_its_fields():
    study = load_study(STUDY)
    configs = {c.run_id: c for c in study.expand()}
    runs = ablation.run_table(study)
    defaults = {(r.n_per_language, r.seed): configs[r.run_id] for r in runs[runs["setting"] == "default"].itertuples()}
    for r in runs.itertuples():
        config, default = configs[r.run_id], defaults[r.n_per_language, r.seed]
        assert _differences(config, default) == INGREDIENTS[r.setting], r.setting
        # nothing else changes: the same fine-tuning, data and evaluation
        assert dataclasses.replace(config, world=default.world, base_model=default.base_model) == default
        assert r.changes == ", ".join(f"{path} = {value}" for path, value in ablation.changes(config, default).items())
        assert set(ablation.changes(config, default)) == set(INGREDIENTS[r.setting])


def _study(tmp_path, blocks):
    path = tmp_path / "s.yaml"
    grid = {"mixture.n_per_language": [0]}
    path.write_text(
        yaml.safe_dump(
            {
                "name": "s",
                "base": {"mixture": {"anchor_examples": 10}},
                "blocks": [{"grid": grid, **block} for block in blocks],
            }
        )
    )
    return load_study(path)


def test_run_table_refuses_a_study_that_is_not_an_ablation(tmp_path):
    with pytest.raises(ValueError, match="no block named 'default'"):
        ablation.run_table(_study(tmp_path, [{"name": "other", "base": {"world": {"parallel_share": 0}}}]))
    with pytest.raises(ValueError, match="blocks 'default' and 'same' reach the same run"):
        ablation.run_table(
            _study(tmp_path, [{"name": "default"}, {"name": "same", "base": {"world": {"parallel_share": 0.05}}}])
        )
    with pytest.raises(ValueError, match="block 'longer' changes training.max_steps"):
        ablation.run_table(
            _study(tmp_path, [{"name": "default"}, {"name": "longer", "base": {"training": {"max_steps": 9}}}])
        )
    with pytest.raises(ValueError, match="block 'more' has a run .* with no default counterpart"):
        ablation.run_table(
            _study(
                tmp_path,
                [
                    {"name": "default"},
                    {"name": "more", "base": {"world": {"parallel_share": 0}}, "grid": {"mixture.n_per_language": [3]}},
                ],
            )
        )


# A synthetic study: en (anchor), es (seen), ar (unseen); three replicates per setting at n = 0.
LANGUAGES = {"en": "anchor", "es": "seen", "ar": "unseen"}
ITEMS = 300


def _frames(probabilities: dict[str, dict[str, float]], seed_shift: dict[str, list[float]] | None = None):
    """predictions and scores of settings whose every metric is 1 with the given probability per
    language (plus a per-replicate shift of the value, clipped to [0, 1])."""
    rng = np.random.default_rng(0)
    predictions, scores = [], []
    for setting, by_language in probabilities.items():
        for seed in range(3):
            run_id = f"{setting}-{seed}"
            for language, role in LANGUAGES.items():
                values = (
                    np.full(ITEMS, seed_shift[setting][seed])
                    if seed_shift
                    else (rng.random(ITEMS) < by_language[language]).astype(float)
                )
                predictions.append(
                    pd.DataFrame(
                        {
                            "run_id": run_id,
                            "task": ablation.TASK,
                            "language": language,
                            "item_id": [f"eval-{i:05d}" for i in range(ITEMS)],
                            **{metric: values for metric in ablation.METRICS},
                        }
                    )
                )
                scores.append(
                    {
                        "run_id": run_id,
                        "setting": setting,
                        "changes": "" if setting == "default" else "x",
                        "n_per_language": 0,
                        "seed": seed,
                        "data_seed": seed,
                        "language": language,
                        "role": role,
                    }
                )
    return pd.concat(predictions, ignore_index=True), pd.DataFrame(scores)


def _row(estimates, setting, group, metric=ablation.HEADLINE):
    row = estimates[(estimates["setting"] == setting) & (estimates["group"] == group) & (estimates["metric"] == metric)]
    assert len(row) == 1
    return row.iloc[0]


def test_estimates_are_the_group_means_and_their_differences_from_the_default():
    true = {"default": {"en": 0.6, "es": 0.2, "ar": 0.1}, "anchored": {"en": 0.6, "es": 0.5, "ar": 0.4}}
    predictions, scores = _frames(true)
    estimates = ablation.estimates(predictions, scores, n_boot=300)
    assert len(estimates) == 2 * len(ablation.ESTIMATES)
    for setting in true:
        for group, languages in (
            ("anchor", ["en"]),
            ("seen", ["es"]),
            ("unseen", ["ar"]),
            ("seen+unseen", ["es", "ar"]),
        ):
            metric = "language_match" if group == "seen+unseen" else ablation.HEADLINE
            rows = predictions[predictions["run_id"].str.startswith(setting) & predictions["language"].isin(languages)]
            row = _row(estimates, setting, group, metric)
            assert row["value"] == pytest.approx(rows[metric].mean())
            assert row["languages"] == ",".join(languages) and (row["replicates"], row["items"]) == (3, ITEMS)
            assert row["low"] < row["value"] < row["high"]
    assert np.isnan(_row(estimates, "default", "seen")["minus_default"])
    for group, difference in (("seen", 0.3), ("unseen", 0.3), ("anchor", 0.0)):
        row = _row(estimates, "anchored", group)
        observed = _row(estimates, "anchored", group)["value"] - _row(estimates, "default", group)["value"]
        assert row["minus_default"] == pytest.approx(observed)
        assert row["minus_default_low"] < difference < row["minus_default_high"]
    assert _row(estimates, "anchored", "seen")["minus_default_low"] > 0
    assert _row(estimates, "anchored", "anchor")["minus_default_low"] < 0


def test_intervals_resample_replicates_as_well_as_items():
    # every item scores the same within a run: the spread is all between replicates
    predictions, scores = _frames(
        {"default": {}, "shifted": {}}, seed_shift={"default": [0.2, 0.2, 0.2], "shifted": [0.1, 0.5, 0.9]}
    )
    estimates = ablation.estimates(predictions, scores, n_boot=300)
    fixed, spread = _row(estimates, "default", "seen"), _row(estimates, "shifted", "seen")
    assert fixed["low"] == fixed["value"] == fixed["high"] == pytest.approx(0.2)
    assert spread["value"] == pytest.approx(0.5) and spread["low"] < 0.5 < spread["high"]
    assert spread["minus_default_low"] < 0.3 < spread["minus_default_high"]


def test_estimates_refuse_replicates_the_default_lacks():
    predictions, scores = _frames(
        {"default": {"en": 0.5, "es": 0.5, "ar": 0.5}, "other": {"en": 0.5, "es": 0.5, "ar": 0.5}}
    )
    scores.loc[scores["run_id"] == "other-2", ["seed", "data_seed"]] = 7
    with pytest.raises(ValueError, match=r"setting 'other' at n = 0 has replicates .* differences pair them"):
        ablation.estimates(predictions, scores, n_boot=10)


def test_run_scores_and_the_summary_table():
    runs = pd.DataFrame(
        {
            "run_id": ["a", "b"],
            "setting": ["default", "no-anchors"],
            "changes": ["", "world.parallel_share = 0.0"],
            "n_per_language": [0, 0],
            "seed": [0, 0],
            "data_seed": [0, 0],
        }
    )
    metrics = pd.DataFrame(
        [
            {"run_id": run, "task": ablation.TASK, "language": language, "role": role, "metric": metric, "value": 0.5}
            for run in ("b", "a")
            for language, role in (("ar", "unseen"), ("en", "anchor"))
            for metric in (*ablation.METRICS, "first_step_correct")
        ]
    )
    scores = ablation.run_scores(metrics, runs)
    assert list(scores.columns) == [*runs.columns, "language", "role", *ablation.METRICS]
    assert list(zip(scores["run_id"], scores["language"])) == [("a", "en"), ("a", "ar"), ("b", "en"), ("b", "ar")]
    with pytest.raises(ValueError, match="lacks language_match"):
        ablation.run_scores(metrics[metrics["metric"] != "language_match"], runs)

    predictions, synthetic = _frames(
        {"default": {"en": 0.6, "es": 0.2, "ar": 0.1}, "anchored": {"en": 0.6, "es": 0.5, "ar": 0.4}}
    )
    table = ablation.summary_table(ablation.estimates(predictions, synthetic, n_boot=50), ablation.HEADLINE)
    assert list(table.index) == [("default", 0), ("anchored", 0)]
    assert list(table.columns) == [
        "anchor (en)",
        "anchor (en) minus default",
        "seen (es)",
        "seen (es) minus default",
        "unseen (ar)",
        "unseen (ar) minus default",
    ]
    assert table.loc[("default", 0), "seen (es) minus default"] == ""
    assert "95% CI" in table.loc[("anchored", 0), "seen (es) minus default"]
