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
from dataclasses import asdict
from typing import Sequence

import numpy as np
import pandas as pd

from cltbook.config import TRAIN_POOL_SIZE, ConfigError, RunConfig
from cltbook.data.real import build_real_mixture
from cltbook.data.sampling import Mixture, language_permutation
from cltbook.example import Example
from cltbook.world import TASKS, assert_disjoint

__all__ = ["Example", "Mixture", "TRAIN_POOL_SIZE", "build_mixture", "examples_frame"]


def _take(pool: Sequence, order: np.ndarray, count: int, path: str) -> list:
    if count > len(order):
        raise ConfigError(path, f"asks for {count} examples but the pool holds {len(order)}")
    return [pool[i] for i in order[:count]]


def world_few_shot_prefix(task, shots: Sequence, language: str, markers: str) -> str:
    """Worked training items told in ``language``, each followed by a blank line."""
    return "".join(f"{ex.prompt}{ex.completion}\n\n" for ex in (task.render(item, language, markers) for item in shots))


def build_mixture(config: RunConfig, loaded: dict | None = None) -> Mixture:
    """The train / validation / evaluation examples of one run (exact sizes, checked disjoint)."""
    if config.data.source == "real":  # ``loaded``: real sources already read (build_real_mixture)
        return build_real_mixture(config, loaded)
    world, markers = config.world, config.world.markers
    counts = config.language_counts()
    train: list[Example] = []
    validation: list[Example] = []
    evaluation: list[Example] = []
    for name in config.tasks:
        task = TASKS[name]
        pool = task.items("train", TRAIN_POOL_SIZE, world)
        chosen_items = []
        for language, count in counts.items():
            order = language_permutation(config.data_seed, name, language, len(pool), config.mixture.parallel)
            chosen = _take(pool, order, count, config.count_field(language))
            chosen_items.extend(chosen)
            train.extend(task.render(item, language, markers) for item in chosen)

        # Validation mirrors the training mix: a language without training examples (every seen
        # language when n = 0) would otherwise steer the checkpoint choice with held-out information.
        validation_items = task.items("validation", config.training.validation_per_language, world)
        validation.extend(
            task.render(item, language, markers)
            for language, count in counts.items()
            if count > 0
            for item in validation_items
        )
        evaluation_items = task.items("eval", config.evaluation.items_per_language, world)
        # Few-shot exemplars (base-model runs) come from the end of the training pool.
        shots = pool[len(pool) - config.data.few_shot :] if config.data.few_shot else []
        for language in config.evaluation_languages:
            prefix = world_few_shot_prefix(task, shots, language, markers)
            evaluation.extend(
                dataclasses.replace(ex, prompt=prefix + ex.prompt)
                for ex in (task.render(item, language, markers) for item in evaluation_items)
            )
        assert_disjoint([*chosen_items, *shots], evaluation_items)
        assert_disjoint(chosen_items, validation_items)
    return Mixture(tuple(train), tuple(validation), tuple(evaluation))


def examples_frame(examples: Sequence[Example]) -> pd.DataFrame:
    return pd.DataFrame([asdict(ex) for ex in examples])
