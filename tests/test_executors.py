"""Executors: parallel local workers, a real Ray cluster, and incremental re-execution."""

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from cltbook.config import load_study
from cltbook.executors import LocalExecutor, RayExecutor, base_model_order, commit_run_folder
from cltbook.store import RECORD, read_record
from cltbook.study import run_study

from conftest import ROOT, SMOKE_STUDY

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
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


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
    outcome = run_study(study, runs_root=tmp_path / "runs", cache_dir=tmp_path / "cache",
                        echo=lambda *_: None, root=ROOT, timeout=3)
    (run_id,) = outcome["failed"]
    record = read_record(tmp_path / "runs" / "six" / run_id)
    assert record["status"] == "failed" and "longer than 3 s" in record["error"]
    assert (tmp_path / "runs" / "six" / run_id / "run.log").is_file()


def test_runs_interleave_base_models_so_workers_build_different_ones_first():
    configs = load_study(ROOT / "studies" / "default.yaml").expand()
    ordered = base_model_order([(c, Path(c.run_id)) for c in configs])
    sizes = {c.base_model.size for c in configs}
    assert {c.base_model.size for c, _ in ordered[: len(sizes)]} == sizes
    assert sorted(c.run_id for c, _ in ordered) == sorted(c.run_id for c in configs)


def test_a_returned_run_folder_is_committed_whole(tmp_path):
    run_dir = tmp_path / "runs" / "abc"
    run_dir.mkdir(parents=True)
    (run_dir / "stale.txt").write_text("left by a crashed attempt")
    commit_run_folder(run_dir, {RECORD: b"{}", "sub/file.txt": b"x"})
    assert sorted(p.name for p in run_dir.rglob("*")) == sorted([RECORD, "file.txt", "sub"])
    with pytest.raises(ValueError, match="outside its folder"):
        commit_run_folder(run_dir, {"../escape.txt": b"x"})
    assert not (tmp_path / "runs" / "escape.txt").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_smoke_study_runs_on_a_real_ray_cluster(tmp_path):
    # Token authentication on both sides, set before Ray is imported (Ray reads the mode then).
    token = secrets.token_hex(16)
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token})
    env = dict(os.environ)
    import ray  # a missing Ray fails this test: the executor is part of the product

    assert ray.__version__.startswith("2.60")
    # Unix socket paths are limited to 107 bytes: Ray's session folder goes under a short path.
    temp_dir = Path(tempfile.mkdtemp(prefix="r", dir="/tmp"))
    port = _free_port()
    ray_cli = str(Path(sys.executable).parent / "ray")
    subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--num-cpus=2", f"--temp-dir={temp_dir}",
                    "--include-dashboard=false", "--disable-usage-stats"], env=env, check=True,
                   capture_output=True)
    try:
        executor = RayExecutor(f"127.0.0.1:{port}", threads=1, worker_cache=str(tmp_path / "node-cache"),
                               auth_mode="token")
        outcome = run_study(SMOKE_STUDY, runs_root=tmp_path / "runs", cache_dir=tmp_path / "driver-cache",
                            echo=lambda *_: None, root=ROOT, executor=executor)
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(temp_dir, ignore_errors=True)
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
