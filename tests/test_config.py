"""Configuration: validation errors name the field and value; identity is a stable content hash."""

import dataclasses
from pathlib import Path

import pytest

from cltbook.config import (
    CACHE_VERSION,
    ConfigError,
    RunConfig,
    StudyConfig,
    dump_yaml,
    expand,
    load_study,
    run_config,
    run_id,
)


def test_defaults_are_valid_and_roles_follow_the_config():
    config = run_config({})
    assert config.evaluation_languages == ("en", "es", "fr", "ja", "zh", "ar", "ko", "pt")
    assert [config.role(c) for c in ("en", "es", "pt")] == ["anchor", "seen", "unseen"]
    custom = run_config({"seen_languages": ["ja", "zh"], "unseen_languages": ["es", "fr"]})
    assert custom.role("es") == "unseen" and custom.role("ja") == "seen"


BAD_RUNS = [
    ({"mixture": {"n_per_langauge": 5}}, "mixture.n_per_langauge", "did you mean 'n_per_language'"),
    ({"trainng": {}}, "trainng", "did you mean 'training'"),
    ({"seed": "3"}, "seed", "expected an integer, got str '3'"),
    ({"seed": True}, "seed", "expected an integer, got bool True"),
    ({"mixture": {"parallel": "yes"}}, "mixture.parallel", "expected true or false"),
    ({"training": {"learning_rate": "1e-3"}}, "training.learning_rate", "expected a number"),
    ({"seen_languages": "es"}, "seen_languages", "expected a list"),
    ({"seen_languages": ["es", "xx"]}, "seen_languages[1]", "'xx'"),
    ({"unseen_languages": ["de"]}, "unseen_languages[0]", "not one of the languages the miniature world"),
    ({"anchor_language": "english"}, "anchor_language", "'english'"),
    ({"mixture": {"n_per_language": -5}}, "mixture.n_per_language", "must be >= 0, got -5"),
    ({"mixture": {"anchor_examples": -1}}, "mixture.anchor_examples", "got -1"),
    ({"unseen_languages": ["ar", "es"]}, "unseen_languages", "['es'] also listed in seen_languages"),
    ({"seen_languages": ["en", "es"]}, "seen_languages", "contains the anchor language 'en'"),
    ({"seen_languages": ["es", "es"]}, "seen_languages", "['es'] more than once"),
    ({"tasks": ["poetry"]}, "tasks[0]", "unknown task 'poetry'"),
    ({"base_model": {"size": "huge"}}, "base_model.size", "unknown size 'huge'"),
    ({"training": {"max_steps": 0}}, "training.max_steps", "must be > 0, got 0"),
    ({"world": {"language_shares": {"en": 0.5, "es": 0.4}}}, "world.language_shares", "must sum to 1"),
    ({"mixture": {"anchor_examples": 0, "n_per_language": 0}}, "mixture", "the mixture is empty"),
    ({"evaluation": {"items_per_language": 5000}}, "evaluation.items_per_language", "got 5000"),
    ({"training": {"select_checkpoint": "best"}}, "training.select_checkpoint", "unknown choice 'best'"),
]


@pytest.mark.parametrize("data, path, fragment", BAD_RUNS, ids=[b[1] for b in BAD_RUNS])
def test_bad_values_are_rejected_naming_field_and_value(data, path, fragment):
    with pytest.raises(ConfigError) as info:
        run_config(data)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")
    assert fragment in str(info.value)


def test_run_id_is_a_content_hash_of_the_semantic_config():
    a = run_config({"study": "one"})
    b = run_config({"study": "two"})  # the study name is a label, not semantics
    c = run_config({"mixture": {"n_per_language": 1}})
    assert a.run_id == b.run_id != c.run_id
    assert len(a.run_id) == 12 and run_id(a) == a.run_id
    # a field left at its default and the same value written out are the same run
    assert run_config({"seed": 0}).run_id == a.run_id
    assert isinstance(CACHE_VERSION, int)


def test_yaml_round_trip(tmp_path):
    config = run_config({"mixture": {"n_per_language": 7}, "seen_languages": ["es", "ja"]})
    import yaml

    again = run_config(yaml.safe_load(dump_yaml(config)))
    assert again == config and again.run_id == config.run_id


def test_study_expansion_is_a_cartesian_product_with_shared_duplicates():
    study = StudyConfig(
        name="s",
        base={"mixture": {"anchor_examples": 50}},
        grid={"mixture.n_per_language": [0, 10, 10], "seed": [0, 1]},
    )
    runs = expand(study)
    assert len(runs) == 4  # the repeated 10 is one setting
    assert {(r.mixture.n_per_language, r.seed) for r in runs} == {(0, 0), (0, 1), (10, 0), (10, 1)}
    assert all(r.study == "s" and r.mixture.anchor_examples == 50 for r in runs)


@pytest.mark.parametrize(
    "text, path, fragment",
    [
        ("name: s\ngrid:\n  mixture.n_per_langauge: [1]\n", "grid.mixture.n_per_langauge", "did you mean"),
        ("name: s\ngrid:\n  mixture: [1]\n", "grid.mixture", "whole section"),
        ("name: s\ngrid:\n  seed: []\n", "grid.seed", "non-empty list"),
        ("name: s\ngrid:\n  mixture.n_per_language: [10, -3]\n", "mixture.n_per_language", "mixture.n_per_language=-3"),
        ("name: s\nbase:\n  seen_languages: [es, xx]\n", "seen_languages[1]", "'xx'"),
        ("name: s\nbase:\n  study: other\n", "base.study", "set from the study's name"),
        ("name: s\ngird:\n  seed: [1]\n", "gird", "did you mean 'grid'"),
        ("name: 'bad name'\n", "name", "letters, digits"),
        ("name: s\nbase: [1, 2]\n", "base", "expected a mapping"),
    ],
)
def test_bad_study_files_fail_naming_the_field(tmp_path, text, path, fragment):
    study_file = tmp_path / "study.yaml"
    study_file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_study(study_file)
    assert info.value.path == path
    assert fragment in str(info.value)


def test_configs_are_frozen():
    config = run_config({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 3  # type: ignore[misc]
    assert isinstance(config, RunConfig)


def test_shipped_studies_are_valid():
    from pathlib import Path

    for path in sorted(Path(__file__).parents[1].glob("studies/*.yaml")):
        assert load_study(path).expand(), path


def test_the_run_notebook_has_one_parameter_per_config_field():
    """Papermill only warns about unknown parameters, so drift would pass silently."""
    import ast
    from pathlib import Path

    import nbformat

    notebook = nbformat.read(Path(__file__).parents[1] / "notebooks" / "finetune_eval.ipynb", as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = [t.id for node in ast.parse(cells[0].source).body for t in node.targets]
    expected = [f.name for f in dataclasses.fields(RunConfig)] + ["run_dir", "cache_dir", "threads"]
    assert names == expected
    defaults = {}
    exec(cells[0].source, {}, defaults)
    from cltbook.config import config_from_parameters

    assert config_from_parameters(defaults).study == "smoke"  # the defaults are a valid run


def test_run_ids_are_pinned():
    """A run id names a finished run's folder: if it moves, every user's finished runs execute
    again. These were computed before the package was split into sub-packages; a change that moves
    them must be deliberate (bump CACHE_VERSION and say so in the notes). The default study's first
    run is pinned as the study now defines it (small, LoRA); how training is spread over processes
    (training.distributed) stays out of the id."""
    studies = Path(__file__).resolve().parents[1] / "studies"
    smoke = load_study(studies / "smoke.yaml").expand()
    default = load_study(studies / "default.yaml").expand()
    assert RunConfig().run_id == "98ebc9fac837"
    assert (smoke[0].label, smoke[0].run_id) == ("math_reasoning-micro-esfrjazh-n0-seed0", "939d6ec0ac12")
    assert (default[0].label, default[0].run_id) == ("math_reasoning-small-esfrjazh-n0-seed0", "af9b50dad4bd")
    sharded = {"training": {"distributed": {"strategy": "fsdp", "processes": 2}}}
    assert run_config(sharded).run_id == RunConfig().run_id
