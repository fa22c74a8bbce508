"""Where runs execute: in parallel local processes, or as tasks on a Ray cluster.

An executor takes the runs to execute and yields ``(config, record)`` as each finishes, in any
order; the driver (:func:`cltbook.study.run_study`) shows progress and tallies the outcome.

- :class:`LocalExecutor`: ``workers`` runs at a time on this machine, each a papermill process
  with ``threads`` torch threads (0: the cores divided among the workers). Each run is executed
  under a lock (:func:`run_lock`), so two drivers on one study share its runs: a run another
  driver holds, or has just finished, is skipped.
- :class:`RayExecutor`: each run is a Ray task asking for ``threads`` CPUs (and ``gpus`` GPUs).
  No shared file system is assumed: the task receives the notebook's text and the run's config,
  executes it in a temporary folder on its node (base models cached in a node-local folder), and
  returns the run folder's files; the driver writes them beside the final folder and renames it
  into place, so a run folder appears whole or not at all. Workers need cltbook installed in the
  same environment as the driver. ``RAY_AUTH_MODE`` is set explicitly on the driver (default
  "token"; the cluster must be started with the same mode and token, e.g. ``RAY_AUTH_TOKEN``).
"""

from __future__ import annotations

import fcntl
import os
import platform
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from cltbook.config import RunConfig

Job = tuple[RunConfig, Path]  # a run's config and its final folder
RAY_VERSIONS = ">=2.60,<2.61"  # the range tested here (pyproject's [ray] extra)


def base_model_order(jobs: Sequence[Job]) -> list[Job]:
    """Runs interleaved across base models, so parallel workers start by building different
    base models instead of waiting on one another's lock."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        base = job[0].base_model
        groups.setdefault(f"{base.source}:{base.size}:{job[0].world}", []).append(job)
    ordered: list[Job] = []
    queues = list(groups.values())
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


LOCKS = ".locks"  # runs/.locks/<study>/<run_id>: locked by the driver executing that run
ELSEWHERE = "elsewhere"  # the status of a run another driver holds; never written to a record


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run folder ``runs/<study>/<run_id>``: outside the study's folder,
    whose entries are run folders only."""
    return run_dir.parent.parent / LOCKS / run_dir.parent.name / run_dir.name


@contextmanager
def run_lock(run_dir: Path) -> Iterator[bool]:
    """Try to take a run's lock without waiting; yields whether this process holds it. The
    operating system releases the lock when the holder dies, however it dies."""
    path = lock_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def elsewhere(config: RunConfig) -> dict[str, Any]:
    return {"run_id": config.run_id, "label": config.label, "status": ELSEWHERE}


class LocalExecutor:
    """``workers`` papermill processes at a time on this machine."""

    name = "local"

    def __init__(self, workers: int = 1, threads: int = 0, timeout: float | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self.timeout = timeout

    def run(self, jobs: Sequence[Job], root: Path, cache_dir: Path,
            started: Callable[[Job], None] = lambda job: None) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
        from cltbook.store import read_record
        from cltbook.study import execute_run

        info = {"name": self.name, "workers": self.workers, "host": platform.node(), "driver_pid": os.getpid()}

        def one(job: Job) -> dict[str, Any]:
            config, run_dir = job
            with run_lock(run_dir) as held:
                record = read_record(run_dir)
                if not held or (record is not None and record.get("status") == "ok"):
                    return elsewhere(config)  # another driver is executing it, or just did
                started(job)
                return execute_run(config, run_dir, root, cache_dir, self.threads, timeout=self.timeout, executor=info)

        with ThreadPoolExecutor(self.workers) as pool:
            futures = {pool.submit(one, job): job for job in base_model_order(jobs)}
            try:
                for future in as_completed(futures):
                    yield futures[future][0], future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def _ray_task(config_data: dict[str, Any], notebook_text: str, threads: int, timeout: float | None,
              cache_dir: str) -> dict[str, bytes]:
    """One run on a Ray worker: execute in a temporary folder, return the folder's files."""
    import ray

    from cltbook.config import run_config
    from cltbook.study import execute_run

    config = run_config(config_data)
    info = {"name": "ray", "node_id": ray.get_runtime_context().get_node_id(),
            "worker_pid": os.getpid(), "host": platform.node()}
    with tempfile.TemporaryDirectory(prefix="cltbook-run-") as scratch:
        scratch_dir = Path(scratch)
        notebook = scratch_dir / "finetune_eval.ipynb"
        notebook.write_text(notebook_text, encoding="utf-8")
        run_dir = scratch_dir / config.run_id
        execute_run(config, run_dir, scratch_dir, Path(cache_dir), threads, timeout=timeout,
                    executor=info, notebook=notebook)
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

    def __init__(self, address: str, threads: int = 1, gpus: float = 0, timeout: float | None = None,
                 worker_cache: str | None = None, auth_mode: str = "token"):
        if threads < 1:
            raise ValueError(f"a Ray run needs threads >= 1 (its CPU request), got {threads}")
        self.address, self.threads, self.gpus, self.timeout = address, threads, gpus, timeout
        self.worker_cache = worker_cache or str(Path(tempfile.gettempdir()) / "cltbook-cache")
        self.auth_mode = auth_mode

    def run(self, jobs: Sequence[Job], root: Path, cache_dir: Path,
            started: Callable[[Job], None] = lambda job: None) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
        os.environ["RAY_AUTH_MODE"] = self.auth_mode  # before Ray is imported: it reads the mode then
        try:
            import ray
        except ImportError as err:
            raise RuntimeError(f"the Ray executor needs ray{RAY_VERSIONS}: pip install -e '.[ray]'") from err
        from cltbook.store import read_record
        from cltbook.study import NOTEBOOK

        ray.init(address=self.address, log_to_driver=False, logging_level="WARNING")
        try:
            notebook_text = (root / NOTEBOOK).read_text(encoding="utf-8")
            task = ray.remote(num_cpus=self.threads, num_gpus=self.gpus, max_retries=0)(_ray_task)
            pending = {}
            for config, run_dir in jobs:
                started((config, run_dir))
                ref = task.remote(config.to_dict(), notebook_text, self.threads, self.timeout, self.worker_cache)
                pending[ref] = (config, run_dir)
            while pending:
                (ready,), _ = ray.wait(list(pending), num_returns=1)
                config, run_dir = pending.pop(ready)
                commit_run_folder(run_dir, ray.get(ready))
                yield config, read_record(run_dir)
        finally:
            ray.shutdown()
