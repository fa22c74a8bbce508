"""Mixtures: exact sizes, nesting across n, a fixed anchor set, and no evaluation item in training."""

import pytest

from cltbook.config import ConfigError, run_config
from cltbook.data.mixture import TRAIN_POOL_SIZE, build_mixture
from cltbook.languages import format_prompt
from cltbook.world import LeakError, assert_disjoint, problems


def mixture(n, **overrides):
    data = {
        "mixture": {"anchor_examples": 60, "n_per_language": n, **overrides.pop("mixture", {})},
        "training": {"validation_per_language": 5},
        "evaluation": {"items_per_language": 7},
        **overrides,
    }
    return build_mixture(run_config(data))


def ids(examples, language):
    return [ex.item_id for ex in examples if ex.language == language]


M = "math_reasoning"
ALL_TASKS = ["math_reasoning", "summarization", "instruction_following"]


def test_sizes_are_exact():
    mix = mixture(25)
    counts = mix.counts()
    assert counts["train"] == {f"{M}:en": 60, **{f"{M}:{lang}": 25 for lang in ("es", "fr", "ja", "zh")}}
    assert counts["validation"] == {f"{M}:{lang}": 5 for lang in ("en", "es", "fr", "ja", "zh")}
    assert counts["evaluation"] == {f"{M}:{lang}": 7 for lang in ("en", "es", "fr", "ja", "zh", "ar", "ko", "pt")}
    assert len(mix.manifest()) == 60 + 4 * 25 + 5 * 5 + 8 * 7


def test_multi_task_mixtures_hold_the_counts_per_task():
    mix = mixture(4, tasks=ALL_TASKS)
    counts = mix.counts()
    for task in ALL_TASKS:
        assert counts["train"][f"{task}:en"] == 60
        assert all(counts["train"][f"{task}:{lang}"] == 4 for lang in ("es", "fr", "ja", "zh"))
        assert all(counts["evaluation"][f"{task}:{lang}"] == 7 for lang in ("en", "ar", "ko", "pt"))
    # each task's examples are that task's: summaries end in a summary, instructions carry checks
    assert all(ex.checks for ex in mix.train if ex.task == "instruction_following")
    assert all(ex.answer is not None for ex in mix.train if ex.task == "math_reasoning")
    # a single-task run draws the same math items as the multi-task one
    assert ids([ex for ex in mix.train if ex.task == M], "es") == ids(mixture(4).train, "es")


def test_substitution_keeps_the_total_fixed():
    mix = mixture(0, mixture={"design": "substitution", "total_examples": 60, "multilingual_per_language": 10})
    assert mix.counts()["train"] == {f"{M}:en": 20, **{f"{M}:{lang}": 10 for lang in ("es", "fr", "ja", "zh")}}
    with pytest.raises(ConfigError, match=r"mixture.multilingual_per_language: 20 x 4 .* exceeds total_examples 60"):
        mixture(0, mixture={"design": "substitution", "total_examples": 60, "multilingual_per_language": 20})


def test_the_base_model_design_trains_nothing_and_prompts_with_in_language_shots():
    mix = mixture(0, mixture={"design": "none"}, data={"few_shot": 2})
    assert mix.train == () and mix.validation == ()
    ja = next(ex for ex in mix.evaluation if ex.language == "ja")
    shots = ja.prompt.split("\n\n")
    assert len(shots) == 3 and shots[0].startswith("Q: ") and "答えは" in shots[0]  # the world's shared markers
    assert shots[2].startswith("Q: ") and shots[2].endswith("\nA:")
    native = mixture(0, mixture={"design": "none"}, data={"few_shot": 2}, world={"markers": "native"})
    native_shots = next(ex for ex in native.evaluation if ex.language == "ja").prompt.split("\n\n")
    assert native_shots[0].startswith("問題：") and native_shots[2].endswith("ステップごとの答え:")
    # the same two shots, told in each language
    en = next(ex for ex in mix.evaluation if ex.language == "en" and ex.item_id == ja.item_id)
    assert en.prompt.count("The answer is") == 2


def test_mixtures_nest_and_the_anchor_set_is_fixed():
    small, large = mixture(10), mixture(40)
    assert ids(small.train, "en") == ids(large.train, "en")
    for language in ("es", "fr", "ja", "zh"):
        assert ids(large.train, language)[:10] == ids(small.train, language)
    assert ids(mixture(0).train, "en") == ids(small.train, "en")


def test_validation_covers_exactly_the_languages_trained_on():
    assert set(mixture(0).counts()["validation"]) == {f"{M}:en"}
    assert set(mixture(3).counts()["validation"]) == {f"{M}:{lang}" for lang in ("en", "es", "fr", "ja", "zh")}


def test_languages_draw_different_items_unless_parallel():
    independent = mixture(30)
    assert ids(independent.train, "es") != ids(independent.train, "fr")
    parallel = mixture(30, mixture={"parallel": True})
    assert ids(parallel.train, "es") == ids(parallel.train, "fr") == ids(parallel.train, "ja")


def test_data_seed_changes_the_sample_but_not_the_evaluation_set():
    a, b = mixture(30), mixture(30, data_seed=1)
    assert ids(a.train, "es") != ids(b.train, "es")
    assert [ex.item_id for ex in a.evaluation] == [ex.item_id for ex in b.evaluation]


def test_evaluation_items_never_enter_training():
    mix = mixture(200)
    train_ids = {ex.item_id for ex in mix.train}
    assert not train_ids & {ex.item_id for ex in mix.evaluation}
    assert not train_ids & {ex.item_id for ex in mix.validation}
    # and not by underlying item either: signatures of the whole pool against the evaluation split
    pool = problems("train", TRAIN_POOL_SIZE)
    held_out = problems("eval", 500)
    assert_disjoint(pool, held_out)
    with pytest.raises(LeakError, match=held_out[3].item_id):
        assert_disjoint([*pool[:50], held_out[3]], held_out)


def test_asking_for_more_than_the_pool_names_the_field():
    with pytest.raises(
        ConfigError,
        match=rf"mixture.n_per_language: asks for {TRAIN_POOL_SIZE + 1} es "
        rf"examples per task but the world's training pool holds {TRAIN_POOL_SIZE}",
    ):
        mixture(TRAIN_POOL_SIZE + 1)


def test_prompts_follow_the_worlds_markers_and_the_language_layout():
    ja = next(ex for ex in mixture(5).train if ex.language == "ja")
    assert ja.prompt.startswith("Q: ") and ja.prompt.endswith("\nA:")  # shared markers, the default
    assert ja.completion.strip().endswith(f"答えは{int(ja.answer)}です。")  # the answer in the prompt's language
    native = next(ex for ex in mixture(5, world={"markers": "native"}).train if ex.language == "ja")
    assert native.prompt.startswith("問題：") and native.prompt.endswith("ステップごとの答え:")
    assert native.completion == ja.completion
    assert format_prompt("en", "Q?") == "Question: Q?\nStep-by-Step Answer:"
    assert format_prompt("en", "Q?", "shared") == "Q: Q?\nA:"
