"""Task data and mixtures: what goes into fine-tuning, validation and evaluation.

The augmentation design of the paper: a fixed anchor-language (English) set, the same for every
n, plus n examples per seen language. Each language draws its n items as the first n of one seeded
permutation of the world's training pool, so the mixture with n=100 is contained in the one with
n=200. Evaluation items come from a split that is disjoint from training by underlying item
(entities and numbers), and that is checked on every build, not assumed.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from cltbook.config import ConfigError, RunConfig, content_hash
from cltbook.languages import get_language
from cltbook.world import assert_disjoint, problems, render

# The world's training pool per language: every mixture draws from the first TRAIN_POOL_SIZE
# training problems, whatever n is, so that mixtures nest.
TRAIN_POOL_SIZE = 6000


@dataclass(frozen=True)
class Example:
    """One prompt/completion pair; `item_id` names the underlying (language-independent) item."""

    task: str
    language: str
    item_id: str
    prompt: str
    completion: str
    answer: float | None = None


def format_prompt(language: str, question: str) -> str:
    """The MGSM native chain-of-thought layout: question prefix, question, answer prefix."""
    lang = get_language(language)
    return f"{lang.question_prefix} {question}\n{lang.answer_prefix}"


def math_example(problem, language: str) -> Example:
    rendered = render(problem, language)
    return Example(
        task="math_reasoning",
        language=language,
        item_id=problem.item_id,
        prompt=format_prompt(language, rendered.question),
        completion=" " + rendered.solution,
        answer=float(rendered.answer),
    )


def language_permutation(data_seed: int, language: str, size: int, parallel: bool) -> np.ndarray:
    """A seeded order of the training pool; one per language unless items are parallel."""
    stream = "parallel" if parallel else language
    seed_sequence = np.random.SeedSequence([data_seed, zlib.crc32(stream.encode("utf-8"))])
    return np.random.default_rng(seed_sequence).permutation(size)


@dataclass(frozen=True)
class Mixture:
    train: tuple[Example, ...]
    validation: tuple[Example, ...]
    evaluation: tuple[Example, ...]

    def manifest(self) -> pd.DataFrame:
        """One row per example: split, language, underlying item id."""
        rows = [
            {"split": split, "task": ex.task, "language": ex.language, "item_id": ex.item_id}
            for split in ("train", "validation", "evaluation")
            for ex in getattr(self, split)
        ]
        return pd.DataFrame(rows)

    def manifest_hash(self) -> str:
        return content_hash(self.manifest().to_dict(orient="split"), length=16)

    def counts(self) -> dict[str, dict[str, int]]:
        manifest = self.manifest()
        return {
            split: group.groupby("language").size().to_dict()
            for split, group in manifest.groupby("split")
        }


def _take(pool: Sequence, order: np.ndarray, count: int, path: str) -> list:
    if count > len(order):
        raise ConfigError(path, f"asks for {count} examples but the pool holds {len(order)}")
    return [pool[i] for i in order[:count]]


def build_mixture(config: RunConfig) -> Mixture:
    """The train / validation / evaluation examples of one run (exact sizes, checked disjoint)."""
    mixture, world_seed = config.mixture, config.world.seed
    pool = problems("train", TRAIN_POOL_SIZE, world_seed=world_seed)

    train: list[Example] = []
    train_problems = []
    wanted = {config.anchor_language: mixture.anchor_examples}
    wanted.update({lang: mixture.n_per_language for lang in config.seen_languages})
    for language, count in wanted.items():
        order = language_permutation(config.data_seed, language, len(pool), mixture.parallel)
        path = "mixture.anchor_examples" if language == config.anchor_language else "mixture.n_per_language"
        chosen = _take(pool, order, count, path)
        train_problems.extend(chosen)
        train.extend(math_example(p, language) for p in chosen)

    # Validation mirrors the training mix: a language without training examples (every seen
    # language when n = 0) would otherwise steer the checkpoint choice with held-out information.
    validation_problems = problems("validation", config.training.validation_per_language, world_seed=world_seed)
    validation = [
        math_example(p, language)
        for language, count in wanted.items()
        if count > 0
        for p in validation_problems
    ]
    evaluation_problems = problems("eval", config.evaluation.items_per_language, world_seed=world_seed)
    evaluation = [
        math_example(p, language) for language in config.evaluation_languages for p in evaluation_problems
    ]

    assert_disjoint(train_problems, evaluation_problems)
    assert_disjoint(train_problems, validation_problems)
    return Mixture(tuple(train), tuple(validation), tuple(evaluation))


def examples_frame(examples: Sequence[Example]) -> pd.DataFrame:
    return pd.DataFrame([asdict(ex) for ex in examples])
