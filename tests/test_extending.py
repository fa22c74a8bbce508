"""The extension points, used the way a newcomer would: a task and a real-data source are
registered inside this file and go through a real run (the run notebook's own calls, in this
process: mixture, a world base model, fine-tuning, generation, scoring, the tidy metrics table),
so the path the README's "Extending cltbook" section describes stays honest."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from cltbook import tasks as task_registry
from cltbook.config import ConfigError, run_config
from cltbook.data import datasets
from cltbook.data import real as real_sources
from cltbook.data.mixture import build_mixture
from cltbook.example import Example
from cltbook.pipeline import evaluate, models, store, train
from cltbook.report import calibration
from cltbook.tasks import SOURCE_TASKS, Task
from cltbook.world import tasks as world_tasks
from cltbook.world.langid import identify
from cltbook.world.lexicon import OBJECTS, PEOPLE

MICRO = {
    "world": {"corpus_documents": 300, "vocab_size": 300},
    "base_model": {"size": "micro", "pretrain_steps": 2, "pretrain_batch_size": 2},
    "mixture": {"anchor_examples": 6, "n_per_language": 2},
    "training": {"max_steps": 2, "eval_every": 1, "validation_per_language": 2},
    "evaluation": {"items_per_language": 3, "max_new_tokens": 6},
}


# --------------------------------------------------------------------------------------------
# A toy task: repeat the name of an object, in the prompt's language
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EchoItem:
    item_id: str
    signature: str  # what makes two items the same item (splits are disjoint by it)
    person: int  # a person of the world's lexicon
    obj: str  # and an object


def echo_items(split: str, count: int, world) -> list[EchoItem]:
    """Person and object pairs; every third pair belongs to a split, so splits are disjoint."""
    pairs = [(person, obj) for person in range(len(PEOPLE)) for obj in sorted(OBJECTS)]
    chosen = pairs[{"train": 0, "validation": 1, "eval": 2}[split] :: 3][:count]
    return [
        EchoItem(f"echo-{split}-{i}", f"echo:{person}:{obj}", person, obj) for i, (person, obj) in enumerate(chosen)
    ]


def echo_render(item: EchoItem, language: str, markers: str = "shared") -> Example:
    words = f"{PEOPLE[item.person].names[language]} {OBJECTS[item.obj][language].word}"
    return Example("echo", language, item.item_id, f"Q: {words}\nA:", f" {words}")


def echo_score(example: Example, output: str) -> dict[str, float]:
    same = float(output.strip() == example.completion.strip())
    match = identify(output) == example.language
    return {"exact": same, "exact_switch_aware": same if match else 0.0, "language_match": float(match)}


ECHO = Task(
    "echo",
    metrics=("exact", "exact_switch_aware", "language_match"),
    headline="exact_switch_aware",
    language_blind="exact",
)


@pytest.fixture()
def echo_task():
    world_tasks.register_world_task(ECHO, echo_items, echo_render, echo_score)  # the one registry line
    yield ECHO
    world_tasks.TASKS.pop("echo")
    task_registry.TASKS.pop("echo")


def run_in_process(config, cache_dir):
    """What the run notebook does, step by step, in this process."""
    splits = build_mixture(config)
    folder = models.world_base_model(config.world, config.base_model, cache_dir)
    model, tokenizer = models.load_model(folder)
    result = train.finetune(model, tokenizer, splits.train, splits.validation, config.training, seed=config.seed)
    predictions, _ = evaluate.evaluate(
        model,
        tokenizer,
        splits.evaluation,
        config.evaluation.max_new_tokens,
        config.evaluation.batch_size,
        cache_dir=cache_dir,
    )
    return splits, result, predictions, store.tidy_metrics(config, evaluate.language_metrics(predictions))


@pytest.mark.slow
def test_a_task_registered_here_goes_through_a_real_run(echo_task, tmp_path):
    config = run_config({**MICRO, "tasks": ["echo"]})
    splits, result, predictions, metrics = run_in_process(config, tmp_path / "cache")
    assert {ex.task for ex in splits.train} == {"echo"} and result.steps == 2
    assert len(splits.train) == 6 + 2 * len(config.seen_languages)
    assert set(predictions["language"]) == set(config.evaluation_languages)
    assert set(metrics["metric"]) == set(ECHO.metrics) and metrics["value"].between(0, 1).all()
    assert calibration.headline("echo") == "exact_switch_aware"  # the book reads it from the registry


def test_an_unregistered_task_is_refused_naming_the_registered_ones():
    with pytest.raises(ConfigError, match="unknown task 'echo'; known: math_reasoning"):
        run_config({"tasks": ["echo"]})


def test_real_outputs_of_a_task_are_scored_by_the_scorer_registered_for_it(echo_task):
    def echo_real_score(example, output, found_language, cache_dir):
        return {"exact": float(output.strip() == example.completion.strip())}

    scoring = real_sources.RealScoring(languages=("es",))  # one language: no language metrics
    example = Example("echo", "es", "echo-1", "Q: hola\nA:", " hola", checks=(scoring,), source="real")
    evaluate.register_real_scorer("echo", echo_real_score)  # the one line for real data
    try:
        assert evaluate.score(example, " hola ") == {"exact": 1.0}
        with pytest.raises(ValueError, match="already have a scorer"):
            evaluate.register_real_scorer("echo", lambda *args: {})
    finally:
        evaluate.REAL_SCORERS.pop("echo")
    with pytest.raises(ValueError, match="no scorer for real 'echo' outputs"):
        evaluate.score(example, " hola")


def test_a_registered_task_is_validated_and_its_splits_are_checked_disjoint(echo_task):
    config = run_config({**MICRO, "tasks": ["echo"]})
    assert len(build_mixture(config).evaluation) == 3 * len(config.evaluation_languages)
    with pytest.raises(ValueError, match="different task is already registered"):
        task_registry.register_task(Task("echo", metrics=("x",), headline="x", language_blind="x"))


# --------------------------------------------------------------------------------------------
# A toy real-data source: math problems in a CSV file with columns language, id, question, answer
# --------------------------------------------------------------------------------------------


def read_csv_math(path, languages, **options) -> datasets.LoadedData:
    frame = pd.read_csv(path)
    frame = frame[frame["language"].isin(languages)]
    tidy = pd.DataFrame(
        {
            "task": "math_reasoning",
            "language": frame["language"],
            "item_id": frame["id"],
            "input": frame["question"],
            "target": "",
            "answer": frame["answer"].astype(float),
        }
    )
    found = set(tidy["language"])
    return datasets.LoadedData(tidy, {"files": [str(path)], "missing_languages": sorted(set(languages) - found)})


@pytest.fixture()
def csv_source(tmp_path):
    rows = [
        {"language": code, "id": f"sum-{a}-{b}", "question": f"{a} + {b} = ?", "answer": a + b}
        for code in ("en", "es", "ja", "ko")
        for a in range(1, 6)
        for b in range(1, 4)
    ]
    path = tmp_path / "sums.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    real_sources.register_source(real_sources.Source("csv_math", "math_reasoning", read_csv_math))  # one line
    yield path
    real_sources.SOURCES.pop("csv_math")
    SOURCE_TASKS.pop("csv_math")


@pytest.mark.slow
def test_a_source_registered_here_goes_through_a_real_run(csv_source, tmp_path):
    spec = {"loader": "csv_math", "path": str(csv_source)}
    config = run_config(
        {
            **MICRO,
            "tasks": ["math_reasoning"],
            "seen_languages": ["es"],
            "unseen_languages": ["ja", "ko"],
            "data": {
                "source": "real",
                "train": {"math_reasoning": spec},
                "evaluation": {"math_reasoning": spec},
                "allow_eval_in_train": True,
            },
        }
    )
    splits, result, predictions, metrics = run_in_process(config, tmp_path / "cache")
    assert all(ex.source == "real" for ex in splits.train) and result.steps == 2
    assert set(predictions["language"]) == {"en", "es", "ja", "ko"}
    assert "accuracy_strict" in set(metrics["metric"])


def test_a_source_for_an_unregistered_task_is_refused():
    with pytest.raises(ValueError, match="not a registered task"):
        real_sources.register_source(real_sources.Source("nothing", "poetry", read_csv_math))
