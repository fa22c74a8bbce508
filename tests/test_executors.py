"""Executors: parallel local workers, a real Ray cluster, and incremental re-execution."""

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SMOKE_STUDY, ray_cluster

from cltbook.config import ConfigError, load_study, run_config
from cltbook.pipeline.store import RECORD, read_record
from cltbook.sweep.executors import Build, LocalExecutor, RayExecutor, commit_run_folder, largest_first, relative_cost
from cltbook.sweep.runner import build_base_model
from cltbook.sweep.study import run_study

pytestmark = pytest.mark.slow

# Six quick runs: two base models would cost two pretrainings, so one tiny base model.
SIX_RUNS = {
    "name": "six",
    "base": {
        "world": {"corpus_documents": 600, "vocab_size": 400},
        "base_model": {"size": "micro", "pretrain_steps": 10},
        "mixture": {"anchor_examples": 30},
        "training": {"max_steps": 6, "eval_every": 3, "validation_per_language": 4},
        "evaluation": {"items_per_language": 4, "max_new_tokens": 12},
    },
    "grid": {"mixture.n_per_language": [0, 5], "seed": [0, 1, 2]},
}


def snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_study(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_editing_one_value_re_executes_exactly_the_changed_runs(tmp_path):
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    study = write_study(tmp_path / "six.yaml", SIX_RUNS)
    first = run_study(study, runs_root=runs, cache_dir=cache, echo=lambda *_: None, root=ROOT, workers=2)
    assert len(first["ok"]) == 6 and not first["failed"]
    records = [read_record(runs / "six" / run_id) for run_id in first["ok"]]
    assert {r["executor"]["name"] for r in records} == {"local"}
    # two workers: some two runs were executing at the same time
    spans = sorted((r["wall_clock"]["started"], r["wall_clock"]["finished"]) for r in records)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))
    before = {p.name: snapshot(p) for p in (runs / "six").iterdir()}

    edited = {**SIX_RUNS, "grid": {"mixture.n_per_language": [0, 5], "seed": [0, 1, 3]}}
    write_study(study, edited)
    # the expected set, computed from the configs themselves rather than from run ids
    old = [c.to_dict() for c in load_study(write_study(tmp_path / "old.yaml", SIX_RUNS)).expand()]
    changed = [c for c in load_study(study).expand() if c.to_dict() not in old]
    assert len(changed) == 2 and all(c.seed == 3 for c in changed)

    second = run_study(study, runs_root=runs, cache_dir=cache, echo=lambda *_: None, root=ROOT, workers=2)
    assert sorted(second["ok"]) == sorted(c.run_id for c in changed)
    assert len(second["skipped"]) == 4
    for name, files in before.items():  # every earlier run folder untouched, byte for byte
        assert snapshot(runs / "six" / name) == files


def test_a_run_past_its_timeout_is_stopped_and_recorded_as_failed(tmp_path):
    study = write_study(tmp_path / "six.yaml", {**SIX_RUNS, "grid": {"mixture.n_per_language": [0]}})
    outcome = run_study(
        study, runs_root=tmp_path / "runs", cache_dir=tmp_path / "cache", echo=lambda *_: None, root=ROOT, timeout=3
    )
    (run_id,) = outcome["failed"]
    record = read_record(tmp_path / "runs" / "six" / run_id)
    assert record["status"] == "failed" and "longer than 3 s" in record["error"]
    assert (tmp_path / "runs" / "six" / run_id / "run.log").is_file()


def test_ready_runs_go_largest_first():
    configs = load_study(ROOT / "studies" / "default.yaml").expand()
    ordered = [c for c, _ in largest_first([(c, Path(c.run_id)) for c in configs])]
    assert sorted(c.run_id for c in ordered) == sorted(c.run_id for c in configs)
    costs = [relative_cost(c) for c in ordered]
    assert costs == sorted(costs, reverse=True)
    # the 1000-step over-training run first, then the three-task runs; a tiny base model last
    assert (ordered[0].base_model.size, ordered[0].training.max_steps) == ("small", 1000)
    assert {len(c.tasks) for c in ordered[1:3]} == {3} and ordered[1].base_model.size == "small"
    assert (ordered[-1].base_model.size, ordered[-1].mixture.design) == ("tiny", "none")


class Recorder:
    """A display that keeps what an executor says."""

    def __init__(self):
        self.said = []

    def add(self, label, folder):
        pass

    def remove(self, folder):
        pass

    def say(self, text):
        self.said.append(text)


def scheduled(monkeypatch, tmp_path, workers, threads, build_seconds, fail=()):
    """Run the local executor's scheduling over three tiny and three small runs of the default
    study (the small model the larger to build), with stand-ins for the build and the run that
    log when they start and end."""
    events, lock = [], threading.Lock()

    def log(*event):
        with lock:
            events.append((time.monotonic(), *event))

    def fake_build(config, cache_dir, threads, progress_dir):
        size = config.base_model.size
        log("build", size, threads)
        time.sleep(build_seconds[size])
        log("built", size)
        if size in fail:
            raise RuntimeError("out of disk")
        return build_seconds[size]

    def fake_run(config, run_dir, root, cache_dir, threads, timeout=None, executor=None):
        log("run", config.base_model.size, threads)
        time.sleep(0.05)
        return {"run_id": config.run_id, "label": config.label, "status": "ok"}

    monkeypatch.setattr("cltbook.sweep.executors.build_base_model", fake_build)
    monkeypatch.setattr("cltbook.sweep.executors.execute_run", fake_run)
    configs = load_study(ROOT / "studies" / "default.yaml").expand()
    # the tiny model's largest runs and the small model's smallest: builds must still go by model
    picked = {
        "tiny": sorted((c for c in configs if c.base_model.size == "tiny"), key=lambda c: -len(c.tasks))[:3],
        "small": sorted((c for c in configs if c.base_model.size == "small"), key=lambda c: len(c.tasks))[:3],
    }
    assert len(picked["tiny"][0].tasks) > len(picked["small"][1].tasks)  # builds go by model, not by run
    builds = [Build(size, runs[0], frozenset(c.run_id for c in runs)) for size, runs in picked.items()]
    jobs = [(c, tmp_path / "runs" / c.run_id) for runs in picked.values() for c in runs]
    display = Recorder()
    executor = LocalExecutor(workers=workers, threads=threads)
    done = list(executor.run(jobs, ROOT, tmp_path / "cache", display=display, builds=builds))
    assert sorted(c.run_id for c, _ in done) == sorted(c.run_id for c, _ in jobs)
    return events, display.said


def test_workers_build_base_models_side_by_side_and_serve_runs_as_soon_as_theirs_is_ready(monkeypatch, tmp_path):
    events, said = scheduled(monkeypatch, tmp_path, workers=2, threads=1, build_seconds={"tiny": 0.2, "small": 1.0})
    when = {(kind, size): t for t, kind, size, *_ in reversed(events)}  # first time of each
    built = {size: t for t, kind, size, *_ in events if kind == "built"}
    assert [e[3] for e in events if e[1] == "build"] == [1, 1]  # one thread each, both cores busy
    assert when[("build", "small")] <= when[("build", "tiny")] < when[("run", "tiny")]  # largest first
    for t, kind, size, *_ in events:
        if kind == "run":  # no run before its base model
            assert t >= built[size]
    assert when[("run", "tiny")] < built["small"]  # the free worker did not wait for the other build
    assert len(said) == 2 and all(line.startswith("pretrained base model") for line in said)


def test_one_worker_builds_with_every_thread_then_runs(monkeypatch, tmp_path):
    events, _ = scheduled(monkeypatch, tmp_path, workers=1, threads=2, build_seconds={"tiny": 0.05, "small": 0.05})
    kinds = [e[1] for e in events]
    assert kinds[:4] == ["build", "built", "build", "built"] and set(kinds[4:]) == {"run"}
    assert [e[3] for e in events if e[1] == "build"] == [2, 2]


def test_a_failed_build_is_said_and_its_runs_still_go_ahead_to_record_it(monkeypatch, tmp_path):
    events, said = scheduled(
        monkeypatch, tmp_path, workers=2, threads=1, build_seconds={"tiny": 0.05, "small": 0.05}, fail=("small",)
    )
    assert sum(1 for e in events if e[1:3] == ("run", "small")) == 3
    assert any("FAILED to build base model small" in line and "out of disk" in line for line in said)


def test_a_base_model_build_that_fails_raises_with_its_log(tmp_path):
    config = load_study(SMOKE_STUDY).expand()[0]
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    progress = tmp_path / "progress"
    with pytest.raises(RuntimeError, match=r"Error.*\(log: .*build.log\)"):
        build_base_model(config, not_a_folder, 1, progress)
    assert "Traceback" in (progress / "build.log").read_text()  # kept for the user to read


def test_a_returned_run_folder_is_committed_whole(tmp_path):
    run_dir = tmp_path / "runs" / "abc"
    run_dir.mkdir(parents=True)
    (run_dir / "stale.txt").write_text("left by a crashed attempt")
    commit_run_folder(run_dir, {RECORD: b"{}", "sub/file.txt": b"x"})
    assert sorted(p.name for p in run_dir.rglob("*")) == sorted([RECORD, "file.txt", "sub"])
    with pytest.raises(ValueError, match="outside its folder"):
        commit_run_folder(run_dir, {"../escape.txt": b"x"})
    assert not (tmp_path / "runs" / "escape.txt").exists()


def test_a_ray_task_holds_what_its_run_shards_over():
    sharded = run_config({"training": {"batch_size": 8, "distributed": {"strategy": "fsdp", "processes": 4}}})
    assert RayExecutor("auto", threads=1).resources(sharded) == {"num_cpus": 4, "num_gpus": 0}
    assert RayExecutor("auto", threads=8, gpus=4).resources(sharded) == {"num_cpus": 8, "num_gpus": 4}
    assert RayExecutor("auto", threads=2).resources(run_config({})) == {"num_cpus": 2, "num_gpus": 0}
    with pytest.raises(ConfigError, match=r"shards over 4 processes.*--gpus-per-run 4"):
        RayExecutor("auto", threads=1, gpus=1).resources(sharded)


def test_the_smoke_study_runs_on_a_real_ray_cluster(tmp_path):
    with ray_cluster(num_cpus=2) as address:  # sets the auth mode before Ray is imported: Ray reads it then
        import ray  # a missing Ray fails this test: the executor is part of the product

        assert ray.__version__.startswith("2.60")
        executor = RayExecutor(address, threads=1, worker_cache=str(tmp_path / "node-cache"), auth_mode="token")
        outcome = run_study(
            SMOKE_STUDY,
            runs_root=tmp_path / "runs",
            cache_dir=tmp_path / "driver-cache",
            echo=lambda *_: None,
            root=ROOT,
            executor=executor,
        )
        # one run sharded over two processes is one task holding two CPUs (GPUs on a GPU cluster);
        # its base model is the smoke study's, already on the node
        sharded = yaml.safe_load(SMOKE_STUDY.read_text())
        sharded.update(name="sharded", grid={"mixture.n_per_language": [20]}, blocks=[])
        sharded["base"]["training"]["distributed"] = {"strategy": "fsdp", "processes": 2}
        (tmp_path / "sharded.yaml").write_text(yaml.safe_dump(sharded))
        sharded_outcome = run_study(
            tmp_path / "sharded.yaml",
            runs_root=tmp_path / "runs",
            cache_dir=tmp_path / "driver-cache",
            echo=lambda *_: None,
            root=ROOT,
            executor=executor,
        )
    [sharded_run] = sharded_outcome["ok"]
    training = read_record(tmp_path / "runs" / "sharded" / sharded_run)["training"]
    assert (training["sharding"], training["world_size"], training["batch_per_process"]) == ("fsdp", 2, 8)  # 16 halved
    assert not outcome["failed"] and len(outcome["ok"]) == len(load_study(SMOKE_STUDY).expand())
    for run_id in outcome["ok"]:
        record = read_record(tmp_path / "runs" / "smoke" / run_id)
        assert record["status"] == "ok"
        assert record["executor"]["name"] == "ray"
        assert len(record["executor"]["node_id"]) >= 32
        assert record["executor"]["worker_pid"] != os.getpid()
        assert record["provenance"]["pid"] != os.getpid()
    # nothing was written through a shared folder: the driver's cache stayed empty
    assert not (tmp_path / "driver-cache").exists()
    assert not list((tmp_path / "runs" / "smoke").glob(".incoming-*"))
