"""The sweep driver: expand a study, execute each missing run's notebook, collect the results.

One run = one papermill execution of the run notebook (:mod:`cltbook.sweep.runner`), in its own
folder `runs/<study>/<run_id>/`, on an executor (:mod:`cltbook.sweep.executors`). Runs with a
record are skipped; a failing run is recorded (status, error, traceback, executed notebook) and
the sweep goes on, exiting non-zero at the end.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cltbook.config import RunConfig, StudyConfig, load_study
from cltbook.files import atomic_write_parquet
from cltbook.pipeline.store import STAGE, collect, read_record, study_dir
from cltbook.sweep.executors import ELSEWHERE, Executor, LocalExecutor
from cltbook.sweep.preflight import preflight
from cltbook.sweep.runner import LOG, missing_base_models, project_root


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


class _StageDisplay:
    """Keeps the progress bar's postfix at the stages of the work in flight
    ("<label>: train 120/400", "base model tiny: pretrain 300/700"), read from their stage files
    every second; says an executor's messages above the bar."""

    def __init__(self, bar, every: float = 1.0):
        self.bar, self.every = bar, every
        self.active: dict[Path, str] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def add(self, label: str, run_dir: Path) -> None:
        with self.lock:
            self.active[run_dir] = label

    def remove(self, run_dir: Path) -> None:
        with self.lock:
            self.active.pop(run_dir, None)

    def say(self, text: str) -> None:
        tqdm.write(text)

    def _poll(self) -> None:
        while not self.stop.wait(self.every):
            with self.lock:
                active = list(self.active.items())
            shown = []
            for run_dir, label in active:
                try:
                    stage = (run_dir / STAGE).read_text()
                except OSError:
                    stage = "starting"
                shown.append(f"{label}: {stage}")
            self.bar.set_postfix_str(" | ".join(shown))

    def __enter__(self) -> "_StageDisplay":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def estimate_seconds(statuses: list[RunStatus], todo: list[RunStatus]) -> tuple[float | None, int]:
    """Expected serial seconds for ``todo`` from the finished runs of the study: the median time
    of finished runs with the same model size and number of tasks, else of all finished runs.
    Returns (seconds or None when nothing has finished, number of finished runs used)."""

    def seconds(record: dict[str, Any]) -> float:
        return sum(record.get("timings", {}).values())

    finished = [s for s in statuses if s.state == "done" and s.record]
    if not finished:
        return None, 0
    overall = statistics.median(seconds(s.record) for s in finished)
    total = 0.0
    for status in todo:
        alike = [
            seconds(s.record)
            for s in finished
            if s.config.base_model.size == status.config.base_model.size
            and len(s.config.tasks) == len(status.config.tasks)
        ]
        total += statistics.median(alike) if alike else overall
    return total, len(finished)


def run_study(
    study_path: str | Path | StudyConfig,
    runs_root: str | Path = "runs",
    cache_dir: str | Path = ".cache",
    threads: int = 0,
    dry_run: bool = False,
    retry_failed: bool = False,
    echo=print,
    root: Path | None = None,
    executor: Executor | None = None,
    workers: int = 1,
    timeout: float | None = None,
) -> dict[str, list[str]]:
    """Execute every run of a study that has no record (and failed ones with `retry_failed`),
    on ``executor`` (default: a :class:`~cltbook.sweep.executors.LocalExecutor` with ``workers``)."""
    study = study_path if isinstance(study_path, StudyConfig) else load_study(study_path)  # validated whole
    root = root or project_root()
    runs_root, cache_dir = Path(runs_root), Path(cache_dir)
    executor = executor or LocalExecutor(workers=workers, threads=threads, timeout=timeout)
    statuses = run_statuses(study, runs_root)
    todo = [s for s in statuses if s.state == "pending" or (retry_failed and s.state == "failed")]
    unreachable = preflight([s.config for s in todo], root, dry_run=dry_run)
    outcome: dict[str, list[str]] = {
        "skipped": [s.config.run_id for s in statuses if s not in todo],
        "ok": [],
        "failed": [],
    }
    if dry_run:
        for s in statuses:
            action = "run " if s in todo else "skip"
            echo(f"{action} {s.config.run_id} {s.config.label} ({s.state}{': ' + s.reason if s.reason else ''})")
        eta, based_on = estimate_seconds(statuses, todo)
        estimate = (
            f"; ETA ~{eta / 60 / getattr(executor, 'workers', 1):.1f} min with {getattr(executor, 'workers', 1)} "
            f"worker(s), from {based_on} finished runs (base models not yet cached add their "
            "pretraining)"
            if eta is not None and todo
            else "; no finished run to estimate an ETA from"
            if todo
            else ""
        )
        echo(f"{len(todo)} to run, {len(statuses) - len(todo)} to skip{estimate}")
        if unreachable:
            echo(f"not reachable from here ({len(unreachable)}; a run refuses them before any work):")
            for (where, _source), (message, labels) in unreachable.items():
                echo(f"  {where}: {message} [{len(labels)} run{'s' if len(labels) != 1 else ''}]")
        return outcome
    echo(
        f"study {study.name}: {len(statuses)} runs, {len(todo)} to run, {len(statuses) - len(todo)} skipped"
        f" ({executor.name} executor)"
    )
    # The local executor builds missing base models with its workers; Ray nodes build their own.
    builds = missing_base_models([s.config for s in todo], cache_dir) if executor.builds_base_models else []
    folder = study_dir(runs_root, study.name)
    jobs = [(s.config, folder / s.config.run_id) for s in todo]
    with tqdm(total=len(todo), desc=study.name, unit="run", disable=not todo) as bar, _StageDisplay(bar) as stages:
        for config, record in executor.run(jobs, root, cache_dir, display=stages, builds=builds):
            bar.update(1)
            if record is not None and record["status"] == ELSEWHERE:
                outcome["skipped"].append(config.run_id)
                tqdm.write(f"skip {config.run_id} {config.label}: another cltbook run executes it or just did")
                continue
            ok = record is not None and record["status"] == "ok"
            outcome["ok" if ok else "failed"].append(config.run_id)
            if not ok:
                error = record["error"] if record else "no record came back"
                tqdm.write(f"FAILED {config.run_id} {config.label}: {error} (log: {folder / config.run_id / LOG})")
    return outcome


def collect_study(study_path: str | Path, runs_root: str | Path = "runs", out: str | Path | None = None) -> Path:
    """Write the tables of a study's finished runs to results/<study>/ (one parquet file per
    table of :data:`cltbook.pipeline.store.RESULT_TABLES`, each written atomically); returns the folder."""
    study = load_study(study_path)
    run_ids = [config.run_id for config in study.expand()]
    tables = collect(Path(runs_root), study.name, run_ids)
    out = Path(out) if out else Path("results") / study.name
    for name, frame in tables.items():
        atomic_write_parquet(out / f"{name}.parquet", frame)
    return out
