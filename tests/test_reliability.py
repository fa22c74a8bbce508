"""Crash safety, concurrency, determinism, provenance and hostile parameters, through the real
driver, papermill and kernel processes (all but the provenance tests are slow)."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, ray_cluster

from cltbook.config import load_study, run_config
from cltbook.files import atomic_write_bytes
from cltbook.pipeline.store import (
    CRASH_VARIABLE,
    DRIVER_VARIABLE,
    METRICS,
    PREDICTIONS,
    RECORD,
    git_state,
    read_record,
)
from cltbook.sweep.runner import PARAMETERS, execute_run, notebook_parameters, papermill_command
from cltbook.sweep.study import run_study

# Micro runs: one base model (built once per module), two fine-tuning steps, two items per language.
MICRO = {
    "world": {"corpus_documents": 300, "vocab_size": 300},
    "base_model": {"size": "micro", "pretrain_steps": 2, "pretrain_batch_size": 2},
    "mixture": {"anchor_examples": 8, "n_per_language": 2},
    "training": {"max_steps": 2, "eval_every": 1, "validation_per_language": 2},
    "evaluation": {"items_per_language": 2, "max_new_tokens": 6},
}


def write_study(path: Path, grid: dict) -> Path:
    path.write_text(yaml.safe_dump({"name": "rel", "base": MICRO, "grid": grid}, sort_keys=False))
    return path


def snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def quiet(*_):
    pass


def processes_started_by(driver_pid: int) -> list[int]:
    """Live processes whose environment says the driver ``driver_pid`` started their run."""
    marker = f"{DRIVER_VARIABLE}={driver_pid}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cltbook(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cltbook.cli", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


# --------------------------------------------------------------------------------------------
# Provenance (fast)
# --------------------------------------------------------------------------------------------


def test_git_state_is_unknown_outside_a_checkout_and_flags_uncommitted_changes(tmp_path):
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_state(outside) == {"commit": "unknown", "dirty": None}
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "file.txt").write_text("one\n")
    subprocess.run([*git, "add", "file.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert git_state(repo) == {"commit": head, "dirty": False}
    (repo / "file.txt").write_text("two\n")
    assert git_state(repo) == {"commit": head, "dirty": True}


def test_provenance_is_never_part_of_the_run_id():
    from cltbook.config import semantic_dict

    config = run_config({})
    assert "provenance" not in json.dumps(semantic_dict(config))
    assert config.run_id == run_config(config.to_dict()).run_id


def test_an_atomic_write_killed_before_its_rename_leaves_the_previous_file(tmp_path):
    """A real SIGKILL after the new bytes are on disk and before the rename (the worst moment):
    the previous file is intact, and nothing half-written carries its name."""
    target = tmp_path / "metrics.parquet"
    target.write_bytes(b"previous")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from cltbook import files\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "files.atomic_write_bytes(Path(sys.argv[1]), b'new' * 100000)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(target)], cwd=ROOT)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"previous"
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"


# --------------------------------------------------------------------------------------------
# Crashes (slow)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A two-run micro study, executed once: (study file, runs root, cache)."""
    base = tmp_path_factory.mktemp("reliability")
    study = write_study(base / "rel.yaml", {"mixture.n_per_language": [2, 4]})
    runs, cache = base / "runs", base / "cache"
    outcome = run_study(study, runs_root=runs, cache_dir=cache, echo=quiet, root=ROOT)
    assert len(outcome["ok"]) == 2 and not outcome["failed"]
    return study, runs, cache


POINTS = ("pretrain", "train", "evaluate", "predictions", "record")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["kernel", "driver"])
@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_leaves_no_record_and_only_it_runs_again(finished, tmp_path, target, point):
    study, done_runs, cache = finished
    runs = tmp_path / "runs"
    shutil.copytree(done_runs, runs)
    victim, other = sorted(p for p in (runs / "rel").iterdir())
    shutil.rmtree(victim)  # pending again
    other_before = snapshot(other)

    driver = cltbook(
        "run",
        str(study),
        "--runs-dir",
        str(runs),
        "--cache-dir",
        str(cache),
        "--threads",
        "1",
        env={CRASH_VARIABLE: f"{target}:{point}"},
    )
    output, _ = driver.communicate(timeout=300)
    if target == "driver":
        assert driver.returncode == -signal.SIGKILL, output
    else:
        assert driver.returncode == 1 and "no record written" in output, output
    deadline = time.time() + 10
    while processes_started_by(driver.pid) and time.time() < deadline:
        time.sleep(0.2)
    assert processes_started_by(driver.pid) == [], "a process of the killed run outlived it"
    time.sleep(1.5)  # longer than the orphan watchdog's period: a late record would be here now
    assert not (victim / RECORD).exists()
    for table in victim.glob("*.parquet"):  # whatever was written is whole
        pd.read_parquet(table)
    assert not list(victim.glob(f".{RECORD}.*"))

    again = run_study(study, runs_root=runs, cache_dir=cache, echo=quiet, root=ROOT)
    assert again["ok"] == [victim.name] and again["skipped"] == [other.name]
    assert read_record(victim)["status"] == "ok"
    assert snapshot(other) == other_before


# --------------------------------------------------------------------------------------------
# Two drivers on one study (slow)
# --------------------------------------------------------------------------------------------


def read_everything(runs: Path) -> int:
    """Read every record and table present; return how many files were read."""
    count = 0
    for path in list(runs.rglob("*")):
        try:
            if path.name == RECORD:
                json.loads(path.read_text(encoding="utf-8"))
            elif path.suffix == ".parquet" and not path.name.startswith("."):
                pd.read_parquet(path)
            else:
                continue
        except FileNotFoundError:  # a crashed attempt's folder removed while listing
            continue
        count += 1
    return count


@pytest.mark.slow
def test_two_drivers_share_a_study_executing_each_run_once(finished, tmp_path):
    _, _, cache = finished  # the base model and its card are built
    study = write_study(tmp_path / "rel.yaml", {"mixture.n_per_language": [2, 4], "seed": [0, 1, 2]})
    runs = tmp_path / "runs"
    drivers = [
        cltbook("run", str(study), "--runs-dir", str(runs), "--cache-dir", str(cache), "--threads", "1")
        for _ in range(2)
    ]
    reads = 0
    while any(d.poll() is None for d in drivers):
        reads += read_everything(runs)  # every file stays readable while both drivers write
        time.sleep(0.3)
    outputs = [d.communicate()[0] for d in drivers]
    assert all(d.returncode == 0 for d in drivers), outputs
    assert reads > 0

    configs = load_study(study).expand()
    assert len(configs) == 6
    records = {c.run_id: read_record(runs / "rel" / c.run_id) for c in configs}
    assert all(r is not None and r["status"] == "ok" for r in records.values())
    by_driver = {d.pid: [r for r in records.values() if r["executor"]["driver_pid"] == d.pid] for d in drivers}
    ran = [int(o.strip().splitlines()[-1].split(" ran")[0]) for o in outputs]
    # each run executed exactly once: the two drivers' counts add up to the study, and match the records
    assert sum(ran) == 6 and ran == [len(by_driver[d.pid]) for d in drivers]
    assert all(by_driver.values()), "one driver executed every run"
    first, second = by_driver.values()
    assert any(
        a["wall_clock"]["started"] < b["wall_clock"]["finished"]
        and b["wall_clock"]["started"] < a["wall_clock"]["finished"]
        for a in first
        for b in second
    )
    assert read_everything(runs) >= 6 * 4


@pytest.mark.slow
def test_a_local_driver_and_a_ray_driver_share_a_study_executing_each_run_once(finished, tmp_path):
    """The Ray driver takes the same per-run lock as the local one: started while the local driver
    executes its first run, it skips that run and takes the others; the local driver then skips
    what the Ray driver holds or has committed."""
    _, _, cache = finished  # the local driver's base model is built
    study = write_study(tmp_path / "rel.yaml", {"mixture.n_per_language": [2, 4], "seed": [0, 1]})
    runs = tmp_path / "runs"
    configs = load_study(study).expand()
    with ray_cluster(num_cpus=1) as address:
        local = cltbook("run", str(study), "--runs-dir", str(runs), "--cache-dir", str(cache), "--threads", "1")
        deadline = time.monotonic() + 120
        while not list((runs / "rel").glob("*/stage")) and local.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # the local driver holds its first run's lock and is executing it
        assert local.poll() is None, local.communicate()[0]
        ray_driver = cltbook(
            "run",
            str(study),
            "--runs-dir",
            str(runs),
            "--cache-dir",
            str(tmp_path / "driver-cache"),
            "--executor",
            "ray",
            "--ray-address",
            address,
            "--threads",
            "1",
        )
        outputs = {"local": local.communicate(timeout=600)[0], "ray": ray_driver.communicate(timeout=600)[0]}
    assert local.returncode == 0 and ray_driver.returncode == 0, outputs
    records = {c.run_id: read_record(runs / "rel" / c.run_id) for c in configs}
    assert all(r is not None and r["status"] == "ok" for r in records.values()), records
    ran = {name: int(out.strip().splitlines()[-1].split(" ran")[0]) for name, out in outputs.items()}
    by_executor = {name: sum(r["executor"]["name"] == name for r in records.values()) for name in ("local", "ray")}
    # each run executed exactly once, by the driver whose record it carries; both drivers worked
    assert sum(ran.values()) == len(configs) and ran == by_executor, (ran, by_executor, outputs)
    assert ran["local"] > 0 and ran["ray"] > 0, outputs
    assert "another cltbook run executes it" in outputs["ray"]


# --------------------------------------------------------------------------------------------
# Determinism (slow)
# --------------------------------------------------------------------------------------------


BUSY_LOOP = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


@contextmanager
def busy_cores(count: int, seconds: float = 600):
    """``count`` processes spinning on the CPU (each stops by itself after ``seconds``)."""
    spinners = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=seconds)]) for _ in range(count)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@pytest.mark.slow
def test_two_fresh_processes_with_their_own_caches_give_identical_results_on_busy_cores(tmp_path):
    """Two runs of one config in fresh processes, side by side while other processes keep every
    core busy, write the same metrics and the same prediction texts."""
    config = load_study(write_study(tmp_path / "rel.yaml", {})).expand()[0]

    def fresh(name):
        return execute_run(config, tmp_path / name / config.run_id, ROOT, tmp_path / name / "cache", threads=1)

    with busy_cores(os.cpu_count() or 2) as spinners, ThreadPoolExecutor(2) as pool:
        first, second = pool.map(fresh, ["a", "b"])
        assert all(spinner.poll() is None for spinner in spinners)  # the load lasted the runs
    assert first["status"] == second["status"] == "ok"
    assert first["provenance"]["threads"] == second["provenance"]["threads"] == 1
    assert first["provenance"]["pid"] != second["provenance"]["pid"]
    assert first["data"]["manifest_hash"] == second["data"]["manifest_hash"]
    tables = [
        {name: pd.read_parquet(tmp_path / side / config.run_id / name) for name in (METRICS, PREDICTIONS)}
        for side in ("a", "b")
    ]
    pd.testing.assert_frame_equal(tables[0][METRICS], tables[1][METRICS], check_exact=True)
    assert tables[0][PREDICTIONS]["output"].tolist() == tables[1][PREDICTIONS]["output"].tolist()


# --------------------------------------------------------------------------------------------
# Hostile parameter strings (slow)
# --------------------------------------------------------------------------------------------

HOSTILE = [
    "quote \" and apostrophe ' together",
    "two\nlines\r\nand\ta tab",
    '"""; import os; open("HACKED", "w").write("x"); """',
    "'''; __import__('os').system('touch HACKED'); '''",
    '\\"; import os #',
    "{run_dir} %(x)s $HOME `touch HACKED`",
    "ñ 日本語 🙂 \u2028 end",
]


@pytest.mark.slow
def test_hostile_parameter_strings_round_trip_through_papermill_without_side_effects(tmp_path):
    """The run notebook's own parameters cell, followed by a cell that writes back the config it
    resolved: every string arrives exactly as given, and nothing else happens."""
    notebook = json.loads((ROOT / "notebooks" / "finetune_eval.ipynb").read_text(encoding="utf-8"))
    cells = notebook["cells"]
    cut = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    notebook["cells"] = cells[: cut + 1] + [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "import json\nfrom pathlib import Path\nfrom cltbook.config import config_from_parameters\n"
            "Path(run_dir, 'resolved.json').write_text(json.dumps({'config': config_from_parameters(globals())"
            ".to_dict(), 'run_dir': run_dir, 'cache_dir': cache_dir}), encoding='utf-8')\n",
        }
    ]
    probe = tmp_path / "probe.ipynb"
    probe.write_text(json.dumps(notebook), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    for i, text in enumerate(HOSTILE):
        config = run_config({"study": text, "base_model": {"source": text}, "seen_languages": ["es"]})
        run_dir = tmp_path / f"run{i}"
        run_dir.mkdir()
        cache_dir = tmp_path / "cache"
        parameters = notebook_parameters(config, run_dir, cache_dir, threads=1)
        (run_dir / PARAMETERS).write_text(yaml.safe_dump(parameters, allow_unicode=True), encoding="utf-8")
        done = subprocess.run(papermill_command(probe, run_dir, work), cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        resolved = json.loads((run_dir / "resolved.json").read_text(encoding="utf-8"))
        assert resolved == {"config": config.to_dict(), "run_dir": str(run_dir), "cache_dir": str(cache_dir)}
    assert not list(tmp_path.rglob("HACKED")) and not (ROOT / "HACKED").exists()
    assert sorted(p.name for p in work.iterdir()) == []  # nothing created in the kernel's folder
