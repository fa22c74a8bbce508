"""The study presets: every axis the analysis needs is present in the default study."""

import pytest
import yaml
from conftest import ROOT

from cltbook.config import ConfigError, load_study


def test_the_default_study_exercises_every_axis():
    runs = load_study(ROOT / "studies" / "default.yaml").expand()
    single = [c for c in runs if len(c.tasks) == 1 and c.mixture.design == "augmentation"]
    assert {c.tasks[0] for c in single} == {"math_reasoning", "summarization", "instruction_following"}
    default_mix = [c for c in single if c.seen_languages == ("es", "fr", "ja", "zh")]
    main_size = runs[0].base_model.size
    for task in ("math_reasoning", "summarization", "instruction_following"):
        points = {c.n_per_language for c in default_mix if c.tasks[0] == task and c.base_model.size == main_size}
        assert len(points) >= 5 and 0 in points, (task, points)
    sizes = {c.base_model.size for c in single}
    assert len(sizes) >= 2
    # size x n: the second size has at least two mixture points for some task
    assert any(
        len({c.n_per_language for c in single if c.base_model.size == size and c.tasks == task}) >= 2
        for size in sizes - {main_size}
        for task in {c.tasks for c in single}
    )
    multi = [c for c in runs if len(c.tasks) == 3 and c.mixture.design == "augmentation"]
    assert len({c.n_per_language for c in multi}) >= 2
    mixes = {c.seen_languages for c in single}
    assert ("es", "fr") in mixes and ("ja", "zh") in mixes
    for mix in (("es", "fr"), ("ja", "zh")):  # roles follow each run's own mix; all 8 evaluated
        (one, *_) = [c for c in single if c.seen_languages == mix]
        assert len(one.evaluation_languages) == 8
    # the noise floor: >= 3 replicates (seed and data sample both vary) at n = 0 and the largest n
    main_budget = (runs[0].training.max_steps, runs[0].training.learning_rate)
    replicated = {}
    for c in default_mix:
        if (
            c.tasks == ("math_reasoning",)
            and c.base_model.size == main_size
            and (c.training.max_steps, c.training.learning_rate) == main_budget
        ):
            replicated.setdefault(c.n_per_language, set()).add((c.seed, c.data_seed))
    points = {n for n, seeds in replicated.items() if len(seeds) >= 3}
    assert {0, max(replicated)} <= points
    assert all(seed == data_seed for seeds in replicated.values() for seed, data_seed in seeds)
    # the language-confusion contrast: English-only math with a larger budget
    over = [
        c
        for c in default_mix
        if c.n_per_language == 0
        and c.tasks == ("math_reasoning",)
        and c.training.max_steps * c.training.learning_rate > main_budget[0] * main_budget[1]
    ]
    assert over
    # the base models themselves, for the comparison with fine-tuning
    assert {c.base_model.size for c in runs if c.mixture.design == "none"} == sizes
    # enough items for intervals, and room for the longest target (97 tokens, see the study file)
    assert {c.evaluation.items_per_language for c in runs} == {64}
    assert min(c.evaluation.max_new_tokens for c in runs) >= 100


def test_the_full_study_maps_the_paper_grid_by_ratio():
    runs = load_study(ROOT / "studies" / "full.yaml").expand()
    single = {
        c.n_per_language
        for c in runs
        if len(c.tasks) == 1 and c.mixture.design == "augmentation" and c.seen_languages == ("es", "fr", "ja", "zh")
    }
    paper = [0, 100, 200, 400, 800, 1000, 2000, 5000]
    assert sorted(single) == [n * 1000 // 10_000 for n in paper]
    assert {c.base_model.size for c in runs} == {"tiny", "small", "medium"}


def test_zipped_grid_keys_vary_paths_together(tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text(
        yaml.safe_dump({"name": "s", "grid": {"seed,data_seed": [[0, 5], [1, 6]], "mixture.n_per_language": [0, 3]}})
    )
    pairs = {(c.seed, c.data_seed) for c in load_study(study).expand()}
    assert pairs == {(0, 5), (1, 6)}
    study.write_text(yaml.safe_dump({"name": "s", "grid": {"seed,data_seed": [[0, 5, 7]]}}))
    with pytest.raises(ConfigError, match=r"grid.seed,data_seed\[0\]: expected a list of 2 values"):
        load_study(study)
    study.write_text(yaml.safe_dump({"name": "s", "grid": {"seed,data_sed": [[0, 5]]}}))
    with pytest.raises(ConfigError, match="data_sed"):
        load_study(study)


def test_a_block_error_names_the_block(tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text(
        yaml.safe_dump(
            {
                "name": "s",
                "blocks": [
                    {"name": "ok", "grid": {"mixture.n_per_language": [1]}},
                    {"name": "bad", "base": {"mixture": {"n_per_language": -1}}, "grid": {}},
                ],
            }
        )
    )
    with pytest.raises(ConfigError, match=r"mixture.n_per_language: must be >= 0, got -1 \(in blocks\[1\] \(bad\)"):
        load_study(study)
    study.write_text(yaml.safe_dump({"name": "s", "blocks": [{"name": "a"}, {"name": "a"}]}))
    with pytest.raises(ConfigError, match=r"blocks\[1\].name: 'a' names two blocks"):
        load_study(study)
