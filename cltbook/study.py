"""The sweep driver: expand a study, execute each missing run's notebook, collect the results.

One run = one papermill execution of `notebooks/finetune_eval.ipynb` with the run's config as
parameters, in its own folder `runs/<study>/<run_id>/`. Runs with a record are skipped; a failing
run is recorded (status, error, traceback, executed notebook) and the sweep goes on, exiting
non-zero at the end.
"""

from __future__ import annotations

import shutil
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cltbook.config import RunConfig, StudyConfig, load_study
from cltbook.store import (
    RECORD,
    STAGE,
    atomic_write_parquet,
    collect,
    read_record,
    study_dir,
    write_record,
)

NOTEBOOK = Path("notebooks") / "finetune_eval.ipynb"
EXECUTED = "executed.ipynb"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: cwd) holding the book's configuration."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder
    raise FileNotFoundError(f"no cltbook project (a folder with _config.yml and _toc.yml) above {start}")


@dataclass
class RunStatus:
    config: RunConfig
    state: str  # done | failed | pending
    reason: str = ""
    record: dict[str, Any] | None = None


def run_statuses(study: StudyConfig, runs_root: Path) -> list[RunStatus]:
    statuses = []
    for config in study.expand():
        run_dir = study_dir(runs_root, study.name) / config.run_id
        record = read_record(run_dir)
        if record is None:
            reason = "started, no record (crashed or running)" if run_dir.exists() else "never run"
            statuses.append(RunStatus(config, "pending", reason))
        elif record.get("status") == "ok":
            statuses.append(RunStatus(config, "done", "", record))
        else:
            statuses.append(RunStatus(config, "failed", record.get("error", ""), record))
    return statuses


def notebook_parameters(config: RunConfig, run_dir: Path, cache_dir: Path, threads: int) -> dict[str, Any]:
    """The notebook's parameters: one per top-level config field, plus where to work."""
    return {**config.to_dict(), "run_dir": str(run_dir), "cache_dir": str(cache_dir), "threads": threads}


def execute_run(
    config: RunConfig, run_dir: Path, root: Path, cache_dir: Path, threads: int
) -> dict[str, Any]:
    """Execute the run notebook for one config; return its record (status ok or failed)."""
    import papermill

    shutil.rmtree(run_dir, ignore_errors=True)  # a crashed attempt's leftovers are not evidence
    run_dir.mkdir(parents=True)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(root / NOTEBOOK),
            str(run_dir / EXECUTED),
            parameters=notebook_parameters(config, run_dir.resolve(), cache_dir.resolve(), threads),
            cwd=str(root),
            kernel_name="python3",
            progress_bar=False,
        )
    except Exception as err:  # a failing run is recorded and the sweep goes on
        record = {
            "run_id": config.run_id,
            "label": config.label,
            "status": "failed",
            "error": f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}",
            "traceback": traceback.format_exc(),
            "config": config.to_dict(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        write_record(run_dir, record)
        (run_dir / STAGE).unlink(missing_ok=True)
        return record
    record = read_record(run_dir)
    if record is None:
        raise RuntimeError(f"{run_dir}: the notebook finished without writing {RECORD}")
    return record


@contextmanager
def _show_stage(bar, label: str, run_dir: Path, every: float = 1.0):
    """Keep the progress bar's postfix at "<run label>: <stage>" while a run executes."""
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(every):
            try:
                stage = (run_dir / STAGE).read_text()
            except OSError:
                stage = "starting"
            bar.set_postfix_str(f"{label}: {stage}")

    bar.set_postfix_str(f"{label}: starting")
    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def run_study(
    study_path: str | Path,
    runs_root: str | Path = "runs",
    cache_dir: str | Path = ".cache",
    threads: int = 0,
    dry_run: bool = False,
    retry_failed: bool = False,
    echo=print,
    root: Path | None = None,
) -> dict[str, list[str]]:
    """Execute every run of a study that has no record (and failed ones with `retry_failed`)."""
    study = load_study(study_path)  # validated whole before anything runs
    root = root or project_root()
    runs_root, cache_dir = Path(runs_root), Path(cache_dir)
    statuses = run_statuses(study, runs_root)
    todo = [s for s in statuses if s.state == "pending" or (retry_failed and s.state == "failed")]
    outcome: dict[str, list[str]] = {
        "skipped": [s.config.run_id for s in statuses if s not in todo],
        "ok": [],
        "failed": [],
    }
    if dry_run:
        for s in statuses:
            action = "run " if s in todo else "skip"
            echo(f"{action} {s.config.run_id} {s.config.label} ({s.state}{': ' + s.reason if s.reason else ''})")
        echo(f"{len(todo)} to run, {len(statuses) - len(todo)} to skip")
        return outcome
    echo(f"study {study.name}: {len(statuses)} runs, {len(todo)} to run, {len(statuses) - len(todo)} skipped")
    with tqdm(todo, desc=study.name, unit="run", disable=not todo) as bar:
        for status in bar:
            run_dir = study_dir(runs_root, study.name) / status.config.run_id
            with _show_stage(bar, status.config.label, run_dir):
                record = execute_run(status.config, run_dir, root, cache_dir, threads)
            outcome["ok" if record["status"] == "ok" else "failed"].append(status.config.run_id)
            if record["status"] != "ok":
                tqdm.write(f"FAILED {status.config.run_id} {status.config.label}: {record['error']}")
    return outcome


def collect_study(study_path: str | Path, runs_root: str | Path = "runs", out: str | Path | None = None) -> Path:
    """Write the tables of a study's finished runs to results/<study>/ (one parquet file per
    table of :data:`cltbook.store.RESULT_TABLES`, each written atomically); returns the folder."""
    study = load_study(study_path)
    run_ids = [config.run_id for config in study.expand()]
    tables = collect(Path(runs_root), study.name, run_ids)
    out = Path(out) if out else Path("results") / study.name
    for name, frame in tables.items():
        atomic_write_parquet(out / f"{name}.parquet", frame)
    return out
