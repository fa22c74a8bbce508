"""Where runs execute: in parallel local processes, or as tasks on a Ray cluster.

An executor takes the runs to execute and yields ``(config, record)`` as each finishes, in any
order; the driver (:func:`cltbook.sweep.study.run_study`) shows progress and tallies the outcome.

- :class:`LocalExecutor`: ``workers`` runs at a time on this machine, each a papermill process
  with ``threads`` torch threads (0: the cores divided among the workers). World base models the
  cache lacks are built by the same workers, one child process each, before the runs that need
  them and beside runs whose base model is ready: on 2 cores, pretraining two base models with one
  thread each while the first finished one already serves runs beats pretraining them one after
  another with both threads (pretraining gains only 1.45-1.56x from the second thread). Ready runs
  go largest first. Each run is executed under a lock (:func:`claim_run`), so two drivers on one
  study share its runs: a run another driver holds, or has just finished, is skipped.
- :class:`RayExecutor`: each run is a Ray task asking for ``threads`` CPUs (and ``gpus`` GPUs); a
  run sharded over N processes is one task holding N GPUs (or N CPUs).
  No shared file system is assumed: the task receives the notebook's text and the run's config,
  executes it in a temporary folder on its node (base models cached in a node-local folder), and
  returns the run folder's files; the driver writes them beside the final folder and renames it
  into place, so a run folder appears whole or not at all. Each node builds the base models its
  runs need (once, under a file lock). The driver holds each run's lock from submission until its
  folder is committed, as the local executor does. Workers need cltbook installed in the
  same environment as the driver. ``RAY_AUTH_MODE`` is set explicitly on the driver (default
  "token"; the cluster must be started with the same mode and token, e.g. ``RAY_AUTH_TOKEN``).
"""

from __future__ import annotations

import os
import platform
import queue
import shutil
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence

from cltbook.config import MODEL_SIZES, ConfigError, RunConfig, run_config
from cltbook.files import try_lock
from cltbook.pipeline.store import read_record
from cltbook.sweep.runner import NOTEBOOK, Build, build_base_model, execute_run

Job = tuple[RunConfig, Path]  # a run's config and its final folder
RAY_VERSIONS = ">=2.60,<2.61"  # the range tested here (pyproject's [ray] extra)


class Display(Protocol):
    """Where an executor shows what is in flight (the driver's progress bar) and says things."""

    def add(self, label: str, folder: Path) -> None: ...  # ``folder``/stage holds its stage
    def remove(self, folder: Path) -> None: ...
    def say(self, text: str) -> None: ...


class Executor(Protocol):
    """What the driver (:func:`cltbook.sweep.study.run_study`) asks of an executor, without knowing
    which one it has: execute ``jobs`` and yield ``(config, record)`` as each finishes (a record
    with status :data:`ELSEWHERE` for a run another driver holds). ``builds_base_models`` says
    whether it builds the missing world base models the driver hands it (``builds``) or leaves
    each run to build its own."""

    name: str
    builds_base_models: bool

    def run(
        self, jobs: Sequence[Job], root: Path, cache_dir: Path, display: Display = ..., builds: Sequence[Build] = ()
    ) -> Iterator[tuple[RunConfig, dict[str, Any]]]: ...


class Quiet:
    """A display that shows nothing."""

    def add(self, label: str, folder: Path) -> None:
        pass

    def remove(self, folder: Path) -> None:
        pass

    def say(self, text: str) -> None:
        pass


QUIET = Quiet()


def weights_per_token(config: RunConfig) -> float:
    """A world model's weights used per token (0 for other models: the config does not say)."""
    if config.base_model.source != "world":
        return 0.0
    shape = MODEL_SIZES[config.base_model.size]
    per_layer = 4 * shape.hidden_size**2 + 3 * shape.hidden_size * shape.intermediate_size
    return shape.num_layers * per_layer + config.world.vocab_size * shape.hidden_size


# Seconds of evaluation per generated-token slot against seconds of training per example, on the
# world's small model (math, LoRA): 150 steps of 16 examples trained in about 40 s, 8 languages x
# 64 items x 100 new tokens evaluated in about 8 s.
EVALUATION_WEIGHT = 0.01


def relative_cost(config: RunConfig) -> float:
    """A rough size of a run, for ordering only: weights per token times the examples trained
    (steps x batch) and the token slots generated in evaluation (weighted by EVALUATION_WEIGHT).
    A 1000-step run then starts before the 150-step ones instead of finishing last, alone: on the
    default study's measured run times, two workers are simulated to finish in 1,594 s instead of
    1,675 s (the bound, half the work, is 1,580 s)."""
    training, evaluation = config.training, config.evaluation
    trained = 0 if config.mixture.design == "none" else training.max_steps * training.batch_size
    languages = 1 + len(config.seen_languages) + len(config.unseen_languages)
    generated = len(config.tasks) * languages * evaluation.items_per_language * evaluation.max_new_tokens
    return weights_per_token(config) * (trained + EVALUATION_WEIGHT * generated)


def pretraining_cost(build: Build) -> float:
    """A rough size of a base-model build, for ordering only: weights per token times tokens."""
    spec = build.config.base_model
    return weights_per_token(build.config) * spec.pretrain_steps * spec.pretrain_batch_size * spec.pretrain_seq_len


def largest_first(jobs: Sequence[Job]) -> list[Job]:
    """Runs by decreasing :func:`relative_cost` (stable), so the long ones do not finish last
    on one worker while the others idle."""
    return sorted(jobs, key=lambda job: -relative_cost(job[0]))


LOCKS = ".locks"  # runs/.locks/<study>/<run_id>: locked by the driver executing that run
ELSEWHERE = "elsewhere"  # the status of a run another driver holds; never written to a record


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run folder ``runs/<study>/<run_id>``: outside the study's folder,
    whose entries are run folders only."""
    return run_dir.parent.parent / LOCKS / run_dir.parent.name / run_dir.name


def claim_run(run_dir: Path) -> ExitStack | None:
    """The run's lock, held, when this driver should execute the run; None when another driver
    holds it or has just finished it (its record says ok). Close the returned stack to release
    the lock; the operating system releases it when the holder dies, however it dies."""
    lock = ExitStack()
    held = lock.enter_context(try_lock(lock_path(run_dir)))
    record = read_record(run_dir)
    if held and (record is None or record.get("status") != "ok"):
        return lock
    lock.close()
    return None


def elsewhere(config: RunConfig) -> dict[str, Any]:
    return {"run_id": config.run_id, "label": config.label, "status": ELSEWHERE}


class LocalExecutor:
    """``workers`` papermill processes at a time on this machine (module docstring)."""

    name = "local"
    builds_base_models = True  # with its own workers, before the runs that need them

    def __init__(self, workers: int = 1, threads: int = 0, timeout: float | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self.timeout = timeout

    def build_threads(self, builds: Sequence[Build]) -> int:
        """Torch threads per base-model build: every worker's threads, shared by the builds that
        can run at once (one build on 2 workers x 1 thread gets 2 threads)."""
        return max(1, self.workers * self.threads // max(1, min(self.workers, len(builds))))

    def run(
        self, jobs: Sequence[Job], root: Path, cache_dir: Path, display: Display = QUIET, builds: Sequence[Build] = ()
    ) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
        """Execute ``jobs`` (and first ``builds``, largest first), yielding each run's record as
        it finishes. A free worker takes a base model to build if one is left, else the first
        run (largest first) whose base model is ready; a failed build is said and its runs go
        ahead (each then tries to build the model itself and records what failed)."""
        info = {"name": self.name, "workers": self.workers, "host": platform.node(), "driver_pid": os.getpid()}
        todo = largest_first(jobs)
        to_build = sorted(builds, key=lambda build: -pretraining_cost(build))
        waits_for = {run_id: build.key for build in builds for run_id in build.run_ids}
        unbuilt = {build.key for build in builds}
        build_threads = self.build_threads(builds)
        ready = threading.Condition()
        stop = False
        finished: queue.Queue = queue.Queue()

        def take() -> Build | Job | None:  # called holding `ready`
            while not stop:
                if to_build:
                    return to_build.pop(0)
                for index, job in enumerate(todo):
                    if waits_for.get(job[0].run_id) not in unbuilt:
                        return todo.pop(index)
                if not todo:
                    return None
                ready.wait()
            return None

        def build(task: Build) -> None:
            size = task.config.base_model.size
            progress_dir = cache_dir / "base_models" / f".{task.key}.progress"
            display.add(f"base model {size}", progress_dir)
            try:
                seconds = build_base_model(task.config, cache_dir, build_threads, progress_dir)
                display.say(f"pretrained base model {size} ({task.key}) in {seconds:.0f} s, {build_threads} thread(s)")
            except Exception as err:  # its runs go ahead and record the failure themselves
                display.say(f"FAILED to build base model {size} ({task.key}): {err}")
            finally:
                display.remove(progress_dir)
                with ready:
                    unbuilt.discard(task.key)
                    ready.notify_all()

        def execute(job: Job) -> dict[str, Any]:
            config, run_dir = job
            lock = claim_run(run_dir)
            if lock is None:
                return elsewhere(config)  # another driver is executing it, or just did
            with lock:
                display.add(config.label, run_dir)
                try:
                    return execute_run(
                        config, run_dir, root, cache_dir, self.threads, timeout=self.timeout, executor=info
                    )
                finally:
                    display.remove(run_dir)

        def worker() -> None:
            while True:
                with ready:
                    task = take()
                if task is None:
                    return
                if isinstance(task, Build):
                    build(task)
                    continue
                try:
                    finished.put((task[0], execute(task)))
                except BaseException as err:  # raised in the driver by the generator
                    finished.put((task[0], err))

        threads = [
            threading.Thread(target=worker, name=f"cltbook-worker-{i}", daemon=True) for i in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        try:
            for _ in range(len(jobs)):
                config, outcome = finished.get()
                if isinstance(outcome, BaseException):
                    raise outcome
                yield config, outcome
        finally:  # no new work; what is executing finishes (or dies with the interrupted driver)
            with ready:
                stop = True
                ready.notify_all()
            for thread in threads:
                thread.join()


def _ray_task(
    config_data: dict[str, Any], notebook_text: str, threads: int, timeout: float | None, cache_dir: str
) -> dict[str, bytes]:
    """One run on a Ray worker: execute in a temporary folder, return the folder's files."""
    import ray

    config = run_config(config_data)
    info = {
        "name": "ray",
        "node_id": ray.get_runtime_context().get_node_id(),
        "worker_pid": os.getpid(),
        "host": platform.node(),
    }
    with tempfile.TemporaryDirectory(prefix="cltbook-run-") as scratch:
        scratch_dir = Path(scratch)
        notebook = scratch_dir / "finetune_eval.ipynb"
        notebook.write_text(notebook_text, encoding="utf-8")
        run_dir = scratch_dir / config.run_id
        execute_run(
            config, run_dir, scratch_dir, Path(cache_dir), threads, timeout=timeout, executor=info, notebook=notebook
        )
        return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def commit_run_folder(run_dir: Path, files: dict[str, bytes]) -> None:
    """Write a run's files next to ``run_dir`` and rename the folder into place."""
    incoming = run_dir.parent / f".incoming-{run_dir.name}-{os.getpid()}"
    shutil.rmtree(incoming, ignore_errors=True)
    for name, data in files.items():
        path = incoming / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ValueError(f"a run returned a file outside its folder: {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    shutil.rmtree(run_dir, ignore_errors=True)
    os.replace(incoming, run_dir)


class RayExecutor:
    """Each run a Ray task on an existing cluster (module docstring)."""

    name = "ray"
    builds_base_models = False  # each node builds what its runs need, in a node-local cache

    def __init__(
        self,
        address: str,
        threads: int = 1,
        gpus: float = 0,
        timeout: float | None = None,
        worker_cache: str | None = None,
        auth_mode: str = "token",
    ):
        if threads < 1:
            raise ValueError(f"a Ray run needs threads >= 1 (its CPU request), got {threads}")
        self.address, self.threads, self.gpus, self.timeout = address, threads, gpus, timeout
        self.worker_cache = worker_cache or str(Path(tempfile.gettempdir()) / "cltbook-cache")
        self.auth_mode = auth_mode

    def resources(self, config: RunConfig) -> dict[str, float]:
        """What one run's task holds: ``gpus`` GPUs and ``threads`` CPUs; a run sharded over N
        processes (training.distributed) is one task holding its N GPUs, or, on CPUs, at least N
        CPUs (one process each)."""
        processes = config.training.distributed.processes
        if self.gpus and processes > self.gpus:
            raise ConfigError(
                "--gpus-per-run",
                f"run {config.label} shards over {processes} processes, one GPU each, but each Ray task "
                f"holds {self.gpus:g} GPU(s): use --gpus-per-run {processes}",
            )
        return {"num_cpus": max(self.threads, processes if not self.gpus else 1), "num_gpus": self.gpus}

    def run(
        self, jobs: Sequence[Job], root: Path, cache_dir: Path, display: Display = QUIET, builds: Sequence[Build] = ()
    ) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
        """Submit every run, yield each record as its folder is committed. ``builds`` are
        ignored: each node builds what its runs need. The driver takes each run's lock (as the
        local executor does) before submitting it and holds it until the folder is committed, so a
        local driver and a Ray driver on one study execute each run once."""
        for config, _ in jobs:  # a run its task could not hold is refused before any work
            self.resources(config)
        os.environ["RAY_AUTH_MODE"] = self.auth_mode  # before Ray is imported: it reads the mode then
        try:
            import ray
        except ImportError:
            raise ConfigError("--executor", f"ray needs ray{RAY_VERSIONS}: pip install -e '.[ray]'") from None

        ray.init(address=self.address, log_to_driver=False, logging_level="WARNING")
        locks: dict[Any, ExitStack] = {}
        try:
            notebook_text = (root / NOTEBOOK).read_text(encoding="utf-8")
            task = ray.remote(max_retries=0)(_ray_task)
            pending = {}
            for config, run_dir in jobs:
                lock = claim_run(run_dir)
                if lock is None:
                    yield config, elsewhere(config)  # another driver is executing it, or just did
                    continue
                display.add(config.label, run_dir)
                held = self.resources(config)
                ref = task.options(**held).remote(
                    config.to_dict(), notebook_text, int(held["num_cpus"]), self.timeout, self.worker_cache
                )
                pending[ref], locks[ref] = (config, run_dir), lock
            while pending:
                (ready,), _ = ray.wait(list(pending), num_returns=1)
                config, run_dir = pending.pop(ready)
                try:
                    commit_run_folder(run_dir, ray.get(ready))
                finally:
                    locks.pop(ready).close()
                display.remove(run_dir)
                yield config, read_record(run_dir)
        finally:
            for lock in locks.values():
                lock.close()
            ray.shutdown()
