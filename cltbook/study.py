"""The sweep driver: expand a study, execute each missing run's notebook, collect the results.

One run = one papermill execution of `notebooks/finetune_eval.ipynb` with the run's config as
parameters, in its own folder `runs/<study>/<run_id>/`. Runs with a record are skipped; a failing
run is recorded (status, error, traceback, executed notebook) and the sweep goes on, exiting
non-zero at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml
from tqdm import tqdm

from cltbook.config import ConfigError, RunConfig, StudyConfig, load_study
from cltbook.executors import Build
from cltbook.store import (
    DRIVER_VARIABLE,
    RECORD,
    STAGE,
    atomic_write_parquet,
    atomic_write_text,
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


PARAMETERS = "parameters.yaml"  # what papermill was given, beside the executed notebook
LOG = "run.log"  # papermill's log of the run: every cell's output as it happens
EXECUTOR_VARIABLE = "CLTBOOK_EXECUTOR"  # where a run was executed, read by the notebook's RunWriter


def _notebook_error(executed: Path) -> str | None:
    """"ExceptionName: message" of the cell that failed in an executed notebook, if any."""
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
        sys.executable, "-m", "papermill", str(notebook), str(run_dir / EXECUTED),
        "-f", str(run_dir / PARAMETERS), "--cwd", str(root), "-k", "python3",
        "--log-output", "--no-progress-bar",
    ]


def _die_with_parent() -> None:
    """In the papermill child: be killed when the driver dies (Linux), so a killed driver leaves
    no papermill process behind; the kernel then exits too (RunWriter's orphan watchdog)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def execute_run(
    config: RunConfig, run_dir: Path, root: Path, cache_dir: Path, threads: int,
    timeout: float | None = None, executor: dict[str, Any] | None = None,
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
    env = {**os.environ, EXECUTOR_VARIABLE: json.dumps(executor or {"name": "local"}), DRIVER_VARIABLE: str(os.getpid())}
    if threads > 0:  # the kernel's OpenMP pool is sized from its start, not only by RunWriter
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    error = None
    with open(run_dir / LOG, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
                                   preexec_fn=_die_with_parent)
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
            return {"run_id": config.run_id, "label": config.label, "status": "crashed",
                    "error": f"the run's process died (papermill exit code {code}); no record written",
                    "traceback": "\n".join(log_tail)}
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


# --------------------------------------------------------------------------------------------
# Preflight: every input a study's runs will read, checked before any folder or cache entry is
# made, each error naming the field and its value (a ConfigError, exit code 2 on the command line)
# --------------------------------------------------------------------------------------------

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def check_notebook(notebook: Path, shown: str | None = None) -> None:
    """The run notebook parses and has one cell tagged ``parameters`` that assigns exactly one
    variable per RunConfig field, plus run_dir, cache_dir and threads (papermill only warns about
    a parameter the notebook does not define, so drift would pass silently)."""
    import ast
    from dataclasses import fields

    shown = shown or str(notebook)
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except FileNotFoundError:
        raise ConfigError(shown, "the run notebook does not exist") from None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(shown, f"is not a readable notebook ({type(err).__name__}: {err})") from None
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ConfigError(shown, f"needs exactly one cell tagged 'parameters', found {len(tagged)}")
    source = "".join(tagged[0].get("source", ""))
    try:
        body = ast.parse(source).body
    except SyntaxError as err:
        raise ConfigError(f"{shown}: parameters cell", f"is not valid Python: {err}") from None
    names = [t.id for node in body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]
    expected = [f.name for f in fields(RunConfig)] + ["run_dir", "cache_dir", "threads"]
    unknown = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    if unknown or missing:
        raise ConfigError(f"{shown}: parameters cell",
                          f"assigns unknown {unknown} and lacks {missing}; it must assign {expected}")


def _json_file_error(path: Path) -> str | None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        return f"{path.name} is not valid JSON ({err})"
    return None


def _safetensors_error(path: Path) -> str | None:
    """Why ``path`` is not a safetensors file (its 8-byte length and JSON header), or None."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < length <= size - 8:
            return f"{path.name} is not a safetensors file (header length {length} in a file of {size} bytes)"
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError):
            header = None
    return None if isinstance(header, dict) else f"{path.name} is not a safetensors file (unreadable header)"


DATA_SUFFIXES = (".jsonl", ".json", ".tsv", ".csv", ".parquet", ".txt")


def _check_hub_id(source: str, repo_type: str, field_path: str) -> None:
    """``source`` names no local path: it must look like a hub id (owner/name), and be in the
    local cache when the hub is offline."""
    looks_local = source.startswith((".", "/", "~")) or source.count("/") != 1 or source.endswith(DATA_SUFFIXES)
    if looks_local:
        raise ConfigError(field_path, f"{source!r}: no such {'model folder' if repo_type == 'model' else 'file or folder'}")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        from huggingface_hub.constants import HF_HUB_CACHE

        if not (Path(HF_HUB_CACHE) / f"{repo_type}s--{source.replace('/', '--')}").is_dir():
            raise ConfigError(field_path, f"{source!r} is neither a local path nor a hub id in the local cache "
                                          "(HF_HUB_OFFLINE=1: nothing downloads)")


def check_model_source(source: str, field_path: str = "base_model.source") -> None:
    """A local model folder holds config.json, safetensors weights and a tokenizer, all readable;
    a hub id must already be cached when the hub is offline. Pickled checkpoints are refused
    without being opened: loading one can run arbitrary code."""
    folder = Path(source).expanduser()
    if not folder.exists():
        _check_hub_id(source, "model", field_path)
        return
    if not folder.is_dir():
        raise ConfigError(field_path, f"{source!r} is a file; name the model's folder")
    problems = []
    if not (folder / "config.json").is_file():
        problems.append("no config.json")
    else:
        problems.append(_json_file_error(folder / "config.json"))
    weights = sorted(folder.glob("*.safetensors"))
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if not weights:
        problems.append(f"only pickle checkpoints ({', '.join(pickles)}), which are never loaded: save the "
                        "weights as safetensors" if pickles else "no *.safetensors weights")
    problems += [_safetensors_error(p) for p in weights]
    tokenizer_files = [folder / n for n in ("tokenizer.json", "tokenizer_config.json") if (folder / n).is_file()]
    if not tokenizer_files:
        problems.append("no tokenizer (tokenizer.json or tokenizer_config.json)")
    problems += [_json_file_error(p) for p in tokenizer_files]
    problems = [p for p in problems if p]
    if problems:
        raise ConfigError(field_path, f"{source!r}: {'; '.join(problems)}")


@contextmanager
def _scratch_datasets_cache() -> Iterator[None]:
    """``datasets`` writes its Arrow copies to a temporary folder while the preflight reads."""
    import tempfile

    import datasets

    saved = datasets.config.HF_DATASETS_CACHE
    with tempfile.TemporaryDirectory(prefix="cltbook-preflight-") as scratch:
        datasets.config.HF_DATASETS_CACHE = Path(scratch)
        try:
            yield
        finally:
            datasets.config.HF_DATASETS_CACHE = saved


def check_real_data(config: RunConfig) -> None:
    """Read a run's local data files and build its mixture: unreadable files, malformed records,
    too few items and evaluation items found in training fail here, naming the field. A hub
    dataset is checked by its id (and, offline, by its presence in the local cache); the mixture
    of a run that reads one is built when the run executes (nothing downloads before then), but
    its local files are still read here."""
    from cltbook.data import build_mixture
    from cltbook.real import load_source
    from cltbook.world import LeakError

    sources = {f"data.{part}.{task}": source for part in ("train", "evaluation")
               for task, source in (getattr(config.data, part) or {}).items()}
    local = {where: source for where, source in sources.items() if Path(source.path).expanduser().exists()}
    for where, source in sources.items():
        if where not in local:
            _check_hub_id(source.path, "dataset", f"{where}.path")
    trained = tuple(code for code, count in config.language_counts().items() if count)
    with _scratch_datasets_cache():
        for where, source in local.items():
            task = where.rsplit(".", 1)[1]
            languages = trained if where.startswith("data.train") else config.evaluation_languages
            try:
                load_source(source, task, languages, config.data)
            except (OSError, ValueError) as err:
                raise ConfigError(f"{where}.path", f"{source.path!r}: {err}") from None
        if len(local) < len(sources):
            return
        try:
            build_mixture(config)
        except LeakError as err:
            task = config.tasks[0]
            raise ConfigError(f"data.evaluation.{task}.path",
                              f"{config.data.evaluation[task].path!r} shares items with data.train.{task}: {err} "
                              "(data.allow_eval_in_train is for overfitting checks only)") from None


@contextmanager
def _working_folder(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def preflight(configs: list[RunConfig], root: Path) -> None:
    """Check every input the runs will read (see above); raises ConfigError. Relative paths are
    read from ``root``, the folder the run notebook executes in."""
    check_notebook(root / NOTEBOOK, shown=str(NOTEBOOK))
    with _working_folder(root):
        for source in sorted({c.base_model.source for c in configs} - {"world"}):
            check_model_source(source)
        for config in configs:
            if config.data.source == "real":
                try:
                    check_real_data(config)
                except ConfigError as err:
                    raise ConfigError(err.path, f"{err.message} (run {config.label})") from None


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
    import statistics

    def seconds(record: dict[str, Any]) -> float:
        return sum(record.get("timings", {}).values())

    finished = [s for s in statuses if s.state == "done" and s.record]
    if not finished:
        return None, 0
    overall = statistics.median(seconds(s.record) for s in finished)
    total = 0.0
    for status in todo:
        alike = [seconds(s.record) for s in finished
                 if s.config.base_model.size == status.config.base_model.size
                 and len(s.config.tasks) == len(status.config.tasks)]
        total += statistics.median(alike) if alike else overall
    return total, len(finished)


def missing_base_models(configs: list[RunConfig], cache_dir: Path) -> list[Build]:
    """The world base models ``configs`` need that the cache lacks, each with the runs that wait
    for it."""
    from cltbook.models import base_model_key

    needed: dict[str, list[RunConfig]] = {}
    for config in configs:
        if config.base_model.source == "world":
            key = base_model_key(config.world, config.base_model)
            if not (cache_dir / "base_models" / key / "pretraining.json").is_file():
                needed.setdefault(key, []).append(config)
    return [Build(key, runs[0], frozenset(c.run_id for c in runs)) for key, runs in needed.items()]


BUILD_LOG = "build.log"  # a base-model build's output, in its progress folder


def build_base_model(config: RunConfig, cache_dir: Path, threads: int, progress_dir: Path) -> float:
    """Pretrain the world base model of ``config`` and compute its world card, in a child
    process with ``threads`` torch threads that dies with the driver (as a run's papermill
    process does). Progress goes to ``progress_dir``/stage, output to ``progress_dir``/build.log;
    the folder is removed after a success and kept after a failure, which raises with the log's
    last line. Returns the seconds it took."""
    shutil.rmtree(progress_dir, ignore_errors=True)
    progress_dir.mkdir(parents=True)
    spec = json.dumps({"config": config.to_dict(), "cache_dir": str(cache_dir.resolve()),
                       "threads": threads, "stage": str((progress_dir / STAGE).resolve())})
    started = time.perf_counter()
    with open(progress_dir / BUILD_LOG, "wb") as log:
        code = subprocess.run([sys.executable, "-c", "import sys; from cltbook.study import _build_child; "
                               "_build_child(sys.argv[1])", spec], stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=_die_with_parent).returncode
    if code != 0:
        lines = (progress_dir / BUILD_LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise RuntimeError(f"{lines[-1] if lines else f'exit code {code}'} (log: {progress_dir / BUILD_LOG})")
    shutil.rmtree(progress_dir, ignore_errors=True)
    return time.perf_counter() - started


def _build_child(spec_json: str) -> None:
    """The child process of :func:`build_base_model`."""
    import torch

    from cltbook import worldcard
    from cltbook.config import run_config
    from cltbook.models import load_model, world_base_model

    spec = json.loads(spec_json)
    config, stage = run_config(spec["config"]), Path(spec["stage"])
    torch.set_num_threads(spec["threads"])

    def progress(done: int, total: int, *_: Any) -> None:
        if done % 10 == 0 or done == total:
            atomic_write_text(stage, f"pretrain {done}/{total}")

    folder = world_base_model(config.world, config.base_model, spec["cache_dir"], progress=progress)
    atomic_write_text(stage, "card")
    model, tokenizer = load_model(folder, dtype=config.base_model.dtype)
    worldcard.ensure(folder, model, tokenizer, config.world, config.base_model)


def run_study(
    study_path: str | Path,
    runs_root: str | Path = "runs",
    cache_dir: str | Path = ".cache",
    threads: int = 0,
    dry_run: bool = False,
    retry_failed: bool = False,
    echo=print,
    root: Path | None = None,
    executor=None,
    workers: int = 1,
    timeout: float | None = None,
) -> dict[str, list[str]]:
    """Execute every run of a study that has no record (and failed ones with `retry_failed`),
    on ``executor`` (default: a :class:`~cltbook.executors.LocalExecutor` with ``workers``)."""
    from cltbook.executors import ELSEWHERE, LocalExecutor

    study = load_study(study_path)  # validated whole before anything runs
    root = root or project_root()
    runs_root, cache_dir = Path(runs_root), Path(cache_dir)
    executor = executor or LocalExecutor(workers=workers, threads=threads, timeout=timeout)
    statuses = run_statuses(study, runs_root)
    todo = [s for s in statuses if s.state == "pending" or (retry_failed and s.state == "failed")]
    preflight([s.config for s in todo], root)
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
        estimate = (f"; ETA ~{eta / 60 / getattr(executor, 'workers', 1):.1f} min with {getattr(executor, 'workers', 1)} "
                    f"worker(s), from {based_on} finished runs (base models not yet cached add their "
                    "pretraining)" if eta is not None and todo else "; no finished run to estimate an ETA from" if todo else "")
        echo(f"{len(todo)} to run, {len(statuses) - len(todo)} to skip{estimate}")
        return outcome
    echo(f"study {study.name}: {len(statuses)} runs, {len(todo)} to run, {len(statuses) - len(todo)} skipped"
         f" ({executor.name} executor)")
    # The local executor builds missing base models with its workers; Ray nodes build their own.
    builds = missing_base_models([s.config for s in todo], cache_dir) if executor.name == "local" else []
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
    table of :data:`cltbook.store.RESULT_TABLES`, each written atomically); returns the folder."""
    study = load_study(study_path)
    run_ids = [config.run_id for config in study.expand()]
    tables = collect(Path(runs_root), study.name, run_ids)
    out = Path(out) if out else Path("results") / study.name
    for name, frame in tables.items():
        atomic_write_parquet(out / f"{name}.parquet", frame)
    return out
