"""`cltbook verify STUDY`: re-score every saved prediction from its raw text and check the records.

For each finished run: the record's config must be the study's config for that run id, its files
must exist, the manifest must hash to the recorded value, every per-item metric value must equal
a fresh scoring of the raw output (the examples rebuilt from the config, so answers, targets and
instruction checks come from the data, not from the saved table), and every value of
metrics.parquet must equal the mean of those fresh per-item values. Problems are returned, one
line each, naming the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cltbook.config import load_study
from cltbook.data.mixture import build_mixture
from cltbook.pipeline.evaluate import score
from cltbook.pipeline.store import MANIFEST, METRICS, PREDICTIONS, read_record, study_dir

TOLERANCE = 1e-9


def verify_run(config, run_dir: Path) -> list[str]:
    label = f"{config.run_id} ({config.label})"
    record = read_record(run_dir)
    if record is None or record.get("status") != "ok":
        return []  # not finished: nothing to verify
    problems = []
    if record.get("config") != config.to_dict():
        problems.append(f"{label}: record.json holds another config than the study's")
    for name in (METRICS, PREDICTIONS, MANIFEST):
        if not (run_dir / name).is_file():
            problems.append(f"{label}: {name} is missing")
    if problems:
        return problems
    mixture = build_mixture(config)
    manifest = pd.read_parquet(run_dir / MANIFEST)
    if not manifest.equals(mixture.manifest()):
        problems.append(f"{label}: manifest.parquet differs from the mixture its config builds")
    examples = {(ex.task, ex.language, ex.item_id): ex for ex in mixture.evaluation}
    predictions = pd.read_parquet(run_dir / PREDICTIONS)
    rescored = []
    for row in predictions.itertuples(index=False):
        example = examples.get((row.task, row.language, row.item_id))
        if example is None:
            problems.append(f"{label}: prediction {row.task}/{row.language}/{row.item_id} is not an evaluation item")
            continue
        fresh = score(example, row.output)
        for metric, value in fresh.items():
            saved = getattr(row, metric, None)
            if saved is None or not np.isclose(float(saved), value, atol=TOLERANCE, equal_nan=True):
                problems.append(
                    f"{label}: {row.task}/{row.language}/{row.item_id} {metric} saved "
                    f"{saved} but the output scores {value}"
                )
        rescored.append({"task": row.task, "language": row.language, **fresh})
    if len(predictions) != len(examples):
        problems.append(f"{label}: {len(predictions)} predictions for {len(examples)} evaluation items")
    means = pd.DataFrame(rescored).groupby(["task", "language"]).mean()
    metrics = pd.read_parquet(run_dir / METRICS)
    for row in metrics.itertuples(index=False):
        expected = means.loc[(row.task, row.language), row.metric] if (row.task, row.language) in means.index else None
        if expected is None or not np.isclose(row.value, expected, atol=TOLERANCE):
            problems.append(
                f"{label}: metrics.parquet {row.task}/{row.language}/{row.metric} = {row.value} "
                f"but the predictions give {expected}"
            )
    return problems


def verify_study(study_path: str | Path, runs_root: str | Path = "runs", echo=print) -> list[str]:
    study = load_study(study_path)
    problems, checked = [], 0
    for config in study.expand():
        run_dir = study_dir(Path(runs_root), study.name) / config.run_id
        if (run_dir / "record.json").is_file():
            found = verify_run(config, run_dir)
            checked += 1
            problems += found
            echo(f"{'FAIL' if found else 'ok  '} {config.run_id} {config.label}")
    echo(f"{checked} runs checked, {len(problems)} problems")
    return problems
