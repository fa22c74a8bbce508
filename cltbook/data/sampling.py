"""Seeded sampling orders and the `Mixture` every data source fills.

Each task and language draws its training items as the first n of one seeded permutation of its
pool, so the mixture with n=100 is contained in the one with n=200 (world and real data alike).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cltbook.config import content_hash
from cltbook.example import Example

__all__ = ["Mixture", "language_permutation"]


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
            split: {
                f"{task}:{language}": size
                for (task, language), size in group.groupby(["task", "language"]).size().items()
            }
            for split, group in manifest.groupby("split")
        }
