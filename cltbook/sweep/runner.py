"""One run, executed: the run notebook through papermill in its own folder, and the base models
runs need, built in child processes.

A run is one papermill execution of `notebooks/finetune_eval.ipynb` with the run's config as
parameters, in its folder `runs/<study>/<run_id>/` (PARAMETERS holds what papermill was given, LOG
its output); the notebook writes the run's files through :class:`cltbook.pipeline.store.RunWriter`.
Executors (:mod:`cltbook.sweep.executors`) decide where and when; this module decides how.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cltbook.config import ConfigError, RunConfig, base_model_key
from cltbook.files import atomic_write_text
from cltbook.pipeline.store import DRIVER_VARIABLE, RECORD, STAGE, read_record, write_record

NOTEBOOK = Path("notebooks") / "finetune_eval.ipynb"
EXECUTED = "executed.ipynb"
PARAMETERS = "parameters.yaml"  # what papermill was given, beside the executed notebook
LOG = "run.log"  # papermill's log of the run: every cell's output as it happens
EXECUTOR_VARIABLE = "CLTBOOK_EXECUTOR"  # where a run was executed, read by the notebook's RunWriter
BUILD_LOG = "build.log"  # a base-model build's output, in its progress folder


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: cwd) holding the book's configuration."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder
    raise ConfigError(
        "",
        f"no cltbook project (a folder with _config.yml and _toc.yml) at or above {start}: "
        "run cltbook from inside the project",
    )


def notebook_parameters(config: RunConfig, run_dir: Path, cache_dir: Path, threads: int) -> dict[str, Any]:
    """The notebook's parameters: one per top-level config field, plus where to work."""
    return {**config.to_dict(), "run_dir": str(run_dir), "cache_dir": str(cache_dir), "threads": threads}


def _notebook_error(executed: Path) -> str | None:
    """ "ExceptionName: message" of the cell that failed in an executed notebook, if any."""
    try:
        notebook = json.loads(executed.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") != "PapermillExecutionError":
                return f"{output['ename']}: {output.get('evalue', '')}".strip()
    return None


def papermill_command(notebook: Path, run_dir: Path, root: Path) -> list[str]:
    """Execute ``notebook`` into ``run_dir`` with the parameters of its PARAMETERS file (YAML:
    papermill writes each value into the notebook as a Python literal, never as code)."""
    return [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(run_dir / EXECUTED),
        "-f",
        str(run_dir / PARAMETERS),
        "--cwd",
        str(root),
        "-k",
        "python3",
        "--log-output",
        "--no-progress-bar",
    ]


def _die_with_parent() -> None:
    """In the papermill child: be killed when the driver dies (Linux), so a killed driver leaves
    no papermill process behind; the kernel then exits too (RunWriter's orphan watchdog)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def execute_run(
    config: RunConfig,
    run_dir: Path,
    root: Path,
    cache_dir: Path,
    threads: int,
    timeout: float | None = None,
    executor: dict[str, Any] | None = None,
    notebook: Path | None = None,
) -> dict[str, Any]:
    """Execute the run notebook for one config in a papermill process; return its record
    (status ok or failed). The process's output goes to run.log; past ``timeout`` seconds the
    process is killed (its kernel notices and exits without writing a record) and the run is
    recorded as failed. A run whose process died without a cell raising (killed, out of memory,
    the kernel lost) is a crash, not a result: it leaves no record, so the next ``cltbook run``
    executes it again, and the returned status is "crashed"."""
    shutil.rmtree(run_dir, ignore_errors=True)  # a crashed attempt's leftovers are not evidence
    run_dir.mkdir(parents=True)
    started = time.perf_counter()
    parameters = notebook_parameters(config, run_dir.resolve(), cache_dir.resolve(), threads)
    atomic_write_text(run_dir / PARAMETERS, yaml.safe_dump(parameters, sort_keys=False, allow_unicode=True))
    command = papermill_command(notebook or root / NOTEBOOK, run_dir, root)
    env = {
        **os.environ,
        EXECUTOR_VARIABLE: json.dumps(executor or {"name": "local"}),
        DRIVER_VARIABLE: str(os.getpid()),
    }
    if threads > 0:  # the kernel's OpenMP pool is sized from its start, not only by RunWriter
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    error = None
    with open(run_dir / LOG, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, preexec_fn=_die_with_parent
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code, error = None, f"TimeoutError: the run took longer than {timeout:g} s and was stopped"
        except BaseException:  # the driver is interrupted: take the run down with it
            process.kill()
            process.wait()
            raise
    record = read_record(run_dir)
    if code == 0 and record is not None:
        (run_dir / STAGE).unlink(missing_ok=True)
        return record
    log_tail = (run_dir / LOG).read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
    if error is None:
        error = _notebook_error(run_dir / EXECUTED)
        if error is None and code != 0:  # no cell raised: the process was killed
            (run_dir / STAGE).unlink(missing_ok=True)
            return {
                "run_id": config.run_id,
                "label": config.label,
                "status": "crashed",
                "error": f"the run's process died (papermill exit code {code}); no record written",
                "traceback": "\n".join(log_tail),
            }
        error = error or f"RuntimeError: the notebook finished without writing {RECORD}"
    record = {
        "run_id": config.run_id,
        "label": config.label,
        "status": "failed",
        "error": error,
        "traceback": "\n".join(log_tail),
        "config": config.to_dict(),
        "executor": executor or {"name": "local"},
        "seconds": round(time.perf_counter() - started, 3),
    }
    write_record(run_dir, record)
    (run_dir / STAGE).unlink(missing_ok=True)
    return record


@dataclass(frozen=True)
class Build:
    """A world base model the cache lacks: its cache key, the config of one run that needs it
    (its ``world`` and ``base_model`` say what to build), and the ids of every run that waits."""

    key: str
    config: RunConfig
    run_ids: frozenset[str]


def missing_base_models(configs: list[RunConfig], cache_dir: Path) -> list[Build]:
    """The world base models ``configs`` need that the cache lacks, each with the runs that wait
    for it."""
    needed: dict[str, list[RunConfig]] = {}
    for config in configs:
        if config.base_model.source == "world":
            key = base_model_key(config.world, config.base_model)
            if not (cache_dir / "base_models" / key / "pretraining.json").is_file():
                needed.setdefault(key, []).append(config)
    return [Build(key, runs[0], frozenset(c.run_id for c in runs)) for key, runs in needed.items()]


def build_base_model(config: RunConfig, cache_dir: Path, threads: int, progress_dir: Path) -> float:
    """Pretrain the world base model of ``config`` and compute its world card, in a child
    process with ``threads`` torch threads that dies with the driver (as a run's papermill
    process does). Progress goes to ``progress_dir``/stage, output to ``progress_dir``/build.log;
    the folder is removed after a success and kept after a failure, which raises with the log's
    last line. Returns the seconds it took."""
    shutil.rmtree(progress_dir, ignore_errors=True)
    progress_dir.mkdir(parents=True)
    spec = json.dumps(
        {
            "config": config.to_dict(),
            "cache_dir": str(cache_dir.resolve()),
            "threads": threads,
            "stage": str((progress_dir / STAGE).resolve()),
        }
    )
    started = time.perf_counter()
    with open(progress_dir / BUILD_LOG, "wb") as log:
        code = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from cltbook.pipeline.worldcard import build_child; build_child(sys.argv[1])",
                spec,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        ).returncode
    if code != 0:
        lines = (progress_dir / BUILD_LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise RuntimeError(f"{lines[-1] if lines else f'exit code {code}'} (log: {progress_dir / BUILD_LOG})")
    shutil.rmtree(progress_dir, ignore_errors=True)
    return time.perf_counter() - started
