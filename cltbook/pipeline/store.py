"""The run store: one folder per run, written so that a crash never leaves a half-truth.

    runs/<study>/<run_id>/
        parameters.yaml      the resolved config and where to work: the notebook's input, written
                             by the driver before papermill starts (the config's one copy in
                             the folder until the record repeats it)
        executed.ipynb       the executed notebook (evidence, not the data source)
        metrics.parquet      tidy: run × task × language × metric (schema: TIDY_COLUMNS)
        predictions.parquet  one row per evaluated item
        manifest.parquet     every train / validation / evaluation example: split, language, item id
        record.json          config, provenance, timings, status — written LAST, atomically

A run counts as done only when its record says so; a run that crashed has no record and is re-run.
"""

from __future__ import annotations

import json
import os
import platform
import random
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from cltbook.config import CACHE_VERSION, RunConfig
from cltbook.files import atomic_write_parquet, atomic_write_text
from cltbook.languages import get_language

RECORD = "record.json"
METRICS = "metrics.parquet"
PREDICTIONS = "predictions.parquet"
MANIFEST = "manifest.parquet"  # every example that went in: split, task, language, item id
STAGE = "stage"  # the stage a running notebook is in; removed when the record is written
# "<kernel|driver>:<point>": the run sends a real SIGKILL to its kernel or to the driver that
# started it when it reaches that point (a stage name, "predictions" or "record"). For crash tests.
CRASH_VARIABLE = "CLTBOOK_CRASH_AT"
DRIVER_VARIABLE = "CLTBOOK_DRIVER_PID"  # the process that started the run's papermill process

# The tidy results schema, with units. `value` is on a 0–1 scale for every metric here.
TIDY_COLUMNS = {
    "run_id": "content hash of the semantic config + CACHE_VERSION",
    "study": "study name",
    "label": "human-readable run name (derived, never parsed)",
    "task": "math_reasoning | summarization | instruction_following",
    "setting": "single | multi (single- or multi-task fine-tuning)",
    "model_size": "base model size preset",
    "seed": "fine-tuning seed",
    "data_seed": "mixture sampling seed",
    "mixture_design": "augmentation | substitution | none (the base model, not fine-tuned)",
    "anchor_examples": "fine-tuning examples in the anchor language, per task (count)",
    "n_per_language": "fine-tuning examples per seen language, per task (count)",
    "training_steps": "fine-tuning budget in optimizer steps (0 for the base model)",
    "learning_rate": "peak fine-tuning learning rate (0 for the base model)",
    "seen_languages": "this run's seen languages, comma-separated (the language mix)",
    "language": "ISO 639-1 code of the evaluated language",
    "role": "anchor | seen | unseen (from this run's own config)",
    "script_group": "latin | non_latin",
    "metric": "metric name (e.g. accuracy_strict)",
    "value": "metric value, 0–1",
    "n_items": "evaluation items behind the value (count)",
}


def tidy_metrics(config: RunConfig, per_language: pd.DataFrame) -> pd.DataFrame:
    """Attach the run's identity and each language's role and script group to its metrics."""
    frame = per_language.copy()
    run_columns = {
        "run_id": config.run_id,
        "study": config.study,
        "label": config.label,
        "setting": config.setting,
        "model_size": config.base_model.size,
        "seed": config.seed,
        "data_seed": config.data_seed,
        "mixture_design": config.mixture.design,
        "anchor_examples": config.anchor_count,
        "n_per_language": config.n_per_language,
        "training_steps": 0 if config.mixture.design == "none" else config.training.max_steps,
        "learning_rate": 0.0 if config.mixture.design == "none" else config.training.learning_rate,
        "seen_languages": ",".join(config.seen_languages),
    }
    for column, value in run_columns.items():
        frame[column] = value
    frame["role"] = frame["language"].map(config.role)
    frame["script_group"] = frame["language"].map(lambda code: get_language(code).script_group)
    return frame[list(TIDY_COLUMNS)]


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------

_PACKAGES = ("cltbook", "torch", "transformers", "tokenizers", "numpy", "pandas", "papermill")


def git_state(start: Path) -> dict[str, Any]:
    """The commit and a dirty flag; 'unknown' outside a git checkout. Never part of a run id."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=start, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=start,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "dirty": None}


def hardware() -> dict[str, Any]:
    """The accelerator a run could use (None on a CPU-only machine)."""
    import torch

    if not torch.cuda.is_available():
        return {"accelerator": None}
    properties = torch.cuda.get_device_properties(0)
    return {
        "accelerator": properties.name,
        "accelerator_memory_gb": round(properties.total_memory / 2**30, 1),
        "accelerator_count": torch.cuda.device_count(),
        "cuda": torch.version.cuda,
    }


def provenance(threads: int) -> dict[str, Any]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        **hardware(),
        "git": git_state(Path(__file__).resolve().parent),
        "packages": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
    }


# --------------------------------------------------------------------------------------------
# Reading and writing runs
# --------------------------------------------------------------------------------------------


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    atomic_write_text(Path(run_dir) / RECORD, json.dumps(record, indent=1, ensure_ascii=False, default=str))


def read_record(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / RECORD
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def study_dir(runs_root: Path, study: str) -> Path:
    return Path(runs_root) / study


# The tables `collect` writes to results/<study>/, and what each holds.
RESULT_TABLES = {
    "metrics": "tidy metrics of every finished run (schema: TIDY_COLUMNS)",
    "predictions": "one row per evaluated item: run_id, task, language, item_id, output and per-item metric values",
    "runs": "one row per finished run: identity, base model, threads, stage timings (seconds)",
    **{
        f"card_{name}": f"world card, {name} table, one block per base model (cltbook.pipeline.worldcard)"
        for name in ("corpus", "loss", "overlap")
    },
}
# Prediction columns too long to carry into the results folder (they stay in each run folder).
_HEAVY_PREDICTION_COLUMNS = ("prompt", "target")


def collect(runs_root: Path, study: str, run_ids: list[str]) -> dict[str, pd.DataFrame]:
    """Every finished run of a study, as the tables of RESULT_TABLES."""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in RESULT_TABLES}
    for run_id in run_ids:
        run_dir = study_dir(runs_root, study) / run_id
        record = read_record(run_dir)
        if record is None or record.get("status") != "ok":
            continue
        parts["metrics"].append(pd.read_parquet(run_dir / METRICS))
        predictions = pd.read_parquet(run_dir / PREDICTIONS)
        predictions = predictions.drop(columns=[c for c in _HEAVY_PREDICTION_COLUMNS if c in predictions])
        parts["predictions"].append(predictions.assign(run_id=run_id))
        base = record.get("base_model") or {}
        parts["runs"].append(
            pd.DataFrame(
                [
                    {
                        "run_id": run_id,
                        "label": record["label"],
                        "base_model": base.get("folder", base.get("source")),
                        "threads": record["provenance"]["threads"],
                        **{f"seconds_{stage}": seconds for stage, seconds in record["timings"].items()},
                    }
                ]
            )
        )
        for name in ("corpus", "loss", "overlap"):
            path = run_dir / f"card_{name}.parquet"
            if path.is_file():
                parts[f"card_{name}"].append(pd.read_parquet(path))
    tables = {}
    for name, frames in parts.items():
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if name.startswith("card_") and len(frame):
            # every run of one base model carries the same card: keep one
            frame = frame.drop_duplicates(subset=[c for c in frame.columns if c not in ("ci_low", "ci_high")])
        tables[name] = frame.reset_index(drop=True)
    if tables["metrics"].empty:
        tables["metrics"] = pd.DataFrame(columns=list(TIDY_COLUMNS))
    return tables


class RunWriter:
    """What a run notebook uses to time its stages and to write its outputs, record last."""

    def __init__(self, run_dir: str | Path, config: RunConfig, threads: int = 0):
        import torch

        self.run_dir = Path(run_dir)
        self.config = config
        self.threads = threads or os.cpu_count() or 1
        # The same seed gives the same metrics on an idle or a busy machine: a fixed number of
        # intra-op threads (a reduction split differently sums in another order), deterministic
        # kernels where torch has them, and every generator seeded inside the run.
        torch.set_num_threads(self.threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
        random.seed(config.seed)
        np.random.seed(config.seed)
        torch.manual_seed(config.seed)
        self.timings: dict[str, float] = {}
        self.notes: dict[str, Any] = {}
        self.started_at = time.time()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # A kernel whose driver died must not finish the run later: it exits as soon as its parent
        # process is gone (the parent is the papermill process, or Jupyter when run by hand).
        self._parent = os.getppid()
        threading.Thread(target=self._exit_when_orphaned, daemon=True).start()

    def _exit_when_orphaned(self, every: float = 0.5) -> None:
        while True:
            if os.getppid() != self._parent:
                os._exit(1)
            time.sleep(every)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage and announce it in the run folder (the driver shows it)."""
        self._stage, self._shown = name, -1
        atomic_write_text(self.run_dir / STAGE, name)
        self._crash_point(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - started, 3)

    @staticmethod
    def _crash_point(point: str) -> None:
        """SIGKILL the kernel or the driver here when CRASH_VARIABLE names this point."""
        target, _, at = os.environ.get(CRASH_VARIABLE, "").partition(":")
        if at != point:
            return
        if target == "kernel":
            os.kill(os.getpid(), signal.SIGKILL)
        elif target == "driver":
            os.kill(int(os.environ[DRIVER_VARIABLE]), signal.SIGKILL)
            time.sleep(1.0)  # the kernel goes on working, as it would in the middle of a stage

    def progress(self, done: int, total: int, *_: Any) -> None:
        """Progress within the current stage ("train 120/400"), written at most every 2%."""
        percent = 100 * done // max(1, total)
        if percent >= self._shown + 2 or done == total:
            self._shown = percent
            atomic_write_text(self.run_dir / STAGE, f"{self._stage} {done}/{total}")

    def note(self, **items: Any) -> None:
        """Anything worth keeping in the record (training curves, base model facts, counts)."""
        self.notes.update(items)

    def finish(
        self,
        predictions: pd.DataFrame,
        metrics: pd.DataFrame,
        manifest: pd.DataFrame,
        card: dict[str, pd.DataFrame] | None = None,
    ) -> dict[str, Any]:
        """Write the tables (and the base model's world card, if any), then the record: a run
        without a record did not finish."""
        for name, frame in (card or {}).items():
            atomic_write_parquet(self.run_dir / f"card_{name}.parquet", frame)
        atomic_write_parquet(self.run_dir / MANIFEST, manifest)
        self._crash_point("predictions")
        atomic_write_parquet(self.run_dir / PREDICTIONS, predictions)
        atomic_write_parquet(self.run_dir / METRICS, metrics)
        record = {
            "run_id": self.config.run_id,
            "label": self.config.label,
            "status": "ok",
            "config": self.config.to_dict(),
            "cache_version": CACHE_VERSION,
            "provenance": {**provenance(self.threads), "pid": os.getpid(), "host": platform.node()},
            # where it ran: set by the driver's executor; "notebook" when executed by hand
            "executor": json.loads(os.environ.get("CLTBOOK_EXECUTOR") or '{"name": "notebook"}'),
            "timings": self.timings,
            "wall_clock": {"started": self.started_at, "finished": time.time()},  # Unix seconds
            **self.notes,
        }
        self._crash_point("record")
        if os.getppid() != self._parent:  # orphaned while the watchdog slept
            os._exit(1)
        write_record(self.run_dir, record)
        (self.run_dir / STAGE).unlink(missing_ok=True)
        return record
