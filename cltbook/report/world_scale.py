"""Reading what `tools/gpu_world.py` measured: the world at larger sizes and token budgets.

The measuring program lives with the developer tools (it needs a GPU to mean anything); the book
page `book/world_scale.md` only reads its JSON file, through this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

DEFAULT_JSON = Path("bench/gpu_world.json")
METRICS = ("accuracy_strict_switch_aware", "language_match")
METRIC_LABELS = {"accuracy_strict_switch_aware": "accuracy (strict, switch-aware)", "language_match": "language match"}


def results_table(record: dict[str, Any]) -> pd.DataFrame:
    """The record as one tidy table: a row per size, n and metric, with English, seen and unseen
    means and the size's parameter count (what book/world_scale.md shows)."""
    rows = []
    for run in record["runs"]:
        size = record["sizes"][run["size"]]
        for metric, values in run["metrics"].items():
            rows.append(
                {
                    "size": run["size"],
                    "parameters": size["parameters"]["total"],
                    "non_embedding": size["parameters"]["non_embedding"],
                    "pretraining_tokens": size["pretraining"]["tokens"],
                    "n_per_language": run["n_per_language"],
                    "metric": metric,
                    "english": values["english"],
                    "seen": values["seen"],
                    "unseen": values["unseen"],
                    "run_seconds": run["seconds"]["total"],
                }
            )
    return pd.DataFrame(rows)
