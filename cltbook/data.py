"""Task data and mixtures: what goes into fine-tuning, validation and evaluation.

The augmentation design of the paper, per task: a fixed anchor-language (English) set, the same for
every n, plus n examples per seen language (the substitution design keeps the total fixed
instead; ``RunConfig.language_counts``). Each task and language draws its items as the first n of
one seeded permutation of the world's training pool, so the mixture with n=100 is contained in the
one with n=200. Evaluation items come from a split that is disjoint from training by underlying
item (entities and numbers), and that is checked on every build, not assumed.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cltbook.config import ConfigError, RunConfig, content_hash
from cltbook.example import Example
from cltbook.languages import format_prompt, get_language
from cltbook.world import TASKS, assert_disjoint

__all__ = ["Example", "Mixture", "TRAIN_POOL_SIZE", "build_mixture", "examples_frame"]

# The world's training pool per task and language: every mixture draws from the first
# TRAIN_POOL_SIZE training items, whatever n is, so that mixtures nest.
TRAIN_POOL_SIZE = 6000


def language_permutation(data_seed: int, task: str, language: str, size: int, parallel: bool) -> np.ndarray:
    """A seeded order of a training pool; one per task and language unless items are parallel
    (then every language of a task draws the same items)."""
    key = f"{task}:{'parallel' if parallel else language}"
    seed_sequence = np.random.SeedSequence([data_seed, zlib.crc32(key.encode("utf-8"))])
    return np.random.default_rng(seed_sequence).permutation(size)


@dataclass(frozen=True)
class Mixture:
    train: tuple[Example, ...]
    validation: tuple[Example, ...]
    evaluation: tuple[Example, ...]
    # How each real dataset was read (files, bad records, missing languages); empty for the world.
    reports: dict = field(default_factory=dict)

    def manifest(self) -> pd.DataFrame:
        """One row per example: split, task, language, underlying item id."""
        rows = [
            {"split": split, "task": ex.task, "language": ex.language, "item_id": ex.item_id}
            for split in ("train", "validation", "evaluation")
            for ex in getattr(self, split)
        ]
        return pd.DataFrame(rows, columns=["split", "task", "language", "item_id"])

    def manifest_hash(self) -> str:
        return content_hash(self.manifest().to_dict(orient="split"), length=16)

    def counts(self) -> dict[str, dict[str, int]]:
        """Examples per split, task and language."""
        manifest = self.manifest()
        return {
            split: {f"{task}:{language}": size for (task, language), size in group.groupby(["task", "language"]).size().items()}
            for split, group in manifest.groupby("split")
        }


def _take(pool: Sequence, order: np.ndarray, count: int, path: str) -> list:
    if count > len(order):
        raise ConfigError(path, f"asks for {count} examples but the pool holds {len(order)}")
    return [pool[i] for i in order[:count]]


def _count_path(config: RunConfig, language: str) -> str:
    if config.mixture.design == "substitution":
        return "mixture.total_examples" if language == config.anchor_language else "mixture.multilingual_per_language"
    return "mixture.anchor_examples" if language == config.anchor_language else "mixture.n_per_language"


def world_few_shot_prefix(task, shots: Sequence, language: str) -> str:
    """Worked training items told in ``language``, each followed by a blank line."""
    return "".join(f"{ex.prompt}{ex.completion}\n\n" for ex in (task.render(item, language) for item in shots))


def build_mixture(config: RunConfig) -> Mixture:
    """The train / validation / evaluation examples of one run (exact sizes, checked disjoint)."""
    if config.data.source == "real":
        return build_real_mixture(config)
    world_seed = config.world.seed
    counts = config.language_counts()
    train: list[Example] = []
    validation: list[Example] = []
    evaluation: list[Example] = []
    for name in config.tasks:
        task = TASKS[name]
        pool = task.items("train", TRAIN_POOL_SIZE, world_seed)
        chosen_items = []
        for language, count in counts.items():
            order = language_permutation(config.data_seed, name, language, len(pool), config.mixture.parallel)
            chosen = _take(pool, order, count, _count_path(config, language))
            chosen_items.extend(chosen)
            train.extend(task.render(item, language) for item in chosen)

        # Validation mirrors the training mix: a language without training examples (every seen
        # language when n = 0) would otherwise steer the checkpoint choice with held-out information.
        validation_items = task.items("validation", config.training.validation_per_language, world_seed)
        validation.extend(
            task.render(item, language) for language, count in counts.items() if count > 0 for item in validation_items
        )
        evaluation_items = task.items("eval", config.evaluation.items_per_language, world_seed)
        # Few-shot exemplars (base-model runs) come from the end of the training pool.
        shots = pool[len(pool) - config.data.few_shot:] if config.data.few_shot else []
        for language in config.evaluation_languages:
            prefix = world_few_shot_prefix(task, shots, language)
            evaluation.extend(
                dataclasses.replace(ex, prompt=prefix + ex.prompt)
                for ex in (task.render(item, language) for item in evaluation_items)
            )
        assert_disjoint([*chosen_items, *shots], evaluation_items)
        assert_disjoint(chosen_items, validation_items)
    return Mixture(tuple(train), tuple(validation), tuple(evaluation))


def examples_frame(examples: Sequence[Example]) -> pd.DataFrame:
    return pd.DataFrame([asdict(ex) for ex in examples])


# --------------------------------------------------------------------------------------------
# Real datasets
# --------------------------------------------------------------------------------------------


def load_source(source, task: str, languages: Sequence[str], data):
    """One configured dataset, read by its loader in cltbook.datasets."""
    from cltbook import datasets

    spec = _LOADERS[source.loader]
    columns = dataclasses.replace(getattr(datasets, spec["columns"]), **(source.columns or {})) \
        if spec["columns"] else None
    kwargs: dict = {}
    if columns is not None:
        kwargs["columns"] = columns
    if spec["split"]:
        kwargs["split"] = source.split
    if spec["bad_records"]:
        kwargs.update(on_bad_record=data.on_bad_record, max_bad_fraction=data.max_bad_fraction)
    if source.loader == "ifeval":
        files = {code: Path(source.path) / f"{code}.jsonl" for code in languages}
        loaded = datasets.load_ifeval_prompts(files, **kwargs)
    else:
        loaded = getattr(datasets, spec["function"])(source.path, languages, **kwargs)
    return dataclasses.replace(loaded, frame=loaded.frame.assign(task=task))


# loader name -> function in cltbook.datasets, its default column map, and which options it takes
_LOADERS = {
    "mgsm": {"function": "load_mgsm", "columns": "MGSM_COLUMNS", "split": False, "bad_records": False},
    "mcot_math": {"function": "load_mcot_math", "columns": "MCOT_MATH_COLUMNS", "split": False, "bad_records": True},
    "xlsum": {"function": "load_xlsum", "columns": "XLSUM_COLUMNS", "split": True, "bad_records": True},
    "sharegpt": {"function": "load_sharegpt", "columns": "SHAREGPT_COLUMNS", "split": True, "bad_records": True},
    "aya": {"function": "load_aya", "columns": "AYA_COLUMNS", "split": True, "bad_records": True},
    "aya_dolly": {"function": "load_aya_dolly", "columns": "AYA_DOLLY_COLUMNS", "split": True, "bad_records": True},
    "ifeval": {"function": "load_ifeval_prompts", "columns": None, "split": False, "bad_records": True},
}


def few_shot_prefix(config: RunConfig, language: str) -> str:
    """k worked exemplars in the prompt's language, joined as lm-evaluation-harness does."""
    if config.data.few_shot == 0:
        return ""
    from cltbook.datasets import mgsm_exemplars

    shots = mgsm_exemplars(config.data.exemplars, language)[: config.data.few_shot]
    return "".join(f"{shot['question']}\n{shot['answer']}\n\n" for shot in shots)


def real_math_example(row, language: str, prefix: str = "") -> Example:
    """A real math item in the MGSM layout; without a worked answer the target is the answer
    sentence alone ("The answer is 18.")."""
    answer = float(row["answer"]) if pd.notna(row["answer"]) else None
    target = row["target"] or ""
    if not target and answer is not None:
        target = get_language(language).answer_template.format(f"{answer:g}")
    return Example(
        task="math_reasoning",
        language=language,
        item_id=str(row["item_id"]),
        prompt=prefix + format_prompt(language, row["input"]),
        completion=" " + target,
        answer=answer,
        source="real",
    )


def build_real_mixture(config: RunConfig) -> Mixture:
    """The augmentation design on real datasets: anchor set + n per seen language per task.

    Validation items are the LAST items of each language's permutation, so they never meet the
    training prefix whatever n is; evaluation items are checked against training by item id and
    by text unless `data.allow_eval_in_train` is set (overfitting checks only).
    """
    data, mixture = config.data, config.mixture
    trained = (config.anchor_language, *config.seen_languages)
    counts = config.language_counts()
    validation_n = config.training.validation_per_language
    train: list[Example] = []
    validation: list[Example] = []
    evaluation: list[Example] = []
    reports: dict[str, dict] = {}
    for task in config.tasks:
        if task != "math_reasoning":
            raise ConfigError(f"data.train.{task}", "real data is wired for math_reasoning only so far")
        loaded = load_source(data.train[task], task, trained, data)
        reports[f"train.{task}"] = loaded.report
        for code, count in counts.items():
            pool = loaded.frame[loaded.frame["language"] == code].sort_values("item_id", kind="stable")
            order = language_permutation(config.data_seed, task, code, len(pool), mixture.parallel)
            path = _count_path(config, code)
            if count + (validation_n if count else 0) > len(pool):
                raise ConfigError(path, f"{code}: asks for {count} + {validation_n} validation items "
                                        f"but {data.train[task].path} holds {len(pool)}")
            train += [real_math_example(row, code) for _, row in pool.iloc[order[:count]].iterrows()]
            if count:
                validation += [real_math_example(row, code) for _, row in pool.iloc[order[len(pool) - validation_n:]].iterrows()]
        loaded_eval = load_source(data.evaluation[task], task, config.evaluation_languages, data)
        reports[f"evaluation.{task}"] = loaded_eval.report
        for code in config.evaluation_languages:
            pool = loaded_eval.frame[loaded_eval.frame["language"] == code].sort_values("item_id", kind="stable")
            prefix = few_shot_prefix(config, code)
            evaluation += [real_math_example(row, code, prefix)
                           for _, row in pool.head(config.evaluation.items_per_language).iterrows()]
    if not data.allow_eval_in_train:
        _assert_no_overlap(train + validation, evaluation)
    return Mixture(tuple(train), tuple(validation), tuple(evaluation), reports)


def _assert_no_overlap(train: Sequence[Example], evaluation: Sequence[Example]) -> None:
    """Evaluation items never in training: compared by language + item id and by prompt text."""
    from cltbook.world import LeakError

    seen = {(ex.language, ex.item_id) for ex in train} | {ex.prompt for ex in train}
    leaked = [ex.item_id for ex in evaluation if (ex.language, ex.item_id) in seen or ex.prompt in seen]
    if leaked:
        raise LeakError(f"{len(leaked)} evaluation items are also training items: {leaked[:5]}")
