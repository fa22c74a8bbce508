"""Measure how long each lab exercise takes on this machine and write book/data/lab_times.csv.

`python bench/lab.py [--exercise NAME ...] [--workers 2]`. For each exercise (default: all, in
the lab page's order) it times the page's own command, `cltbook run studies/lab/NAME.yaml
--workers 2`, from the state `make book` leaves:

- every run executes: the runs go to a new temporary folder, not runs/, where finished runs
  would be skipped;
- the cache holds the default study's base models and nothing else: a scratch cache links those
  found in --cache-dir, so an exercise that needs another base model pretrains it, as a
  student's first run would (the csv's base_models_cached says whether it had to).

Then it collects the runs into results/lab-NAME/ (the page computes its answer from there) and
copies the run folders to --runs-dir, so `cltbook status` sees them done. One row per exercise in
the csv (exercise, runs, workers, cores, seconds, base_models_cached, date); measuring an
exercise again replaces its row. Measure on an otherwise idle machine: the page shows the times
as what a student will wait.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cltbook.config import base_model_key, load_study  # noqa: E402
from cltbook.pipeline.store import study_dir  # noqa: E402
from cltbook.report import lab  # noqa: E402
from cltbook.sweep.runner import missing_base_models  # noqa: E402
from cltbook.sweep.study import collect_study  # noqa: E402

DEFAULT_STUDY = ROOT / "studies" / "default.yaml"


def link_default_base_models(cache_dir: Path, scratch: Path) -> list[str]:
    """Link each base model of the default study found in ``cache_dir`` into ``scratch``; returns
    the keys linked."""
    keys = {base_model_key(c.world, c.base_model) for c in load_study(DEFAULT_STUDY).expand()}
    linked = []
    (scratch / "base_models").mkdir(parents=True, exist_ok=True)
    for key in sorted(keys):
        model = (cache_dir / "base_models" / key).resolve()
        if (model / "pretraining.json").is_file():
            (scratch / "base_models" / key).symlink_to(model, target_is_directory=True)
            linked.append(key)
    return linked


def measure(name: str, workers: int, runs_dir: Path, cache_dir: Path) -> dict:
    """Run one exercise from scratch and return its row of the csv."""
    path = lab.study_file(name, ROOT)
    study = load_study(path)
    configs = study.expand()
    with tempfile.TemporaryDirectory(prefix=f"cltbook-lab-{name}-") as scratch:
        scratch = Path(scratch)
        linked = link_default_base_models(cache_dir, scratch / "cache")
        cached = not missing_base_models(configs, scratch / "cache")
        print(
            f"{name}: {len(configs)} runs, {workers} workers; {len(linked)} default base models linked; "
            f"{'every base model it needs is cached' if cached else 'pretrains a base model first'}",
            flush=True,
        )
        command = [
            *(sys.executable, "-m", "cltbook.cli", "run", str(path.relative_to(ROOT))),
            *("--workers", str(workers), "--runs-dir", str(scratch / "runs"), "--cache-dir", str(scratch / "cache")),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{name}: `{' '.join(command)}` exited with {done.returncode}; nothing written for it")
        collect_study(path, runs_root=scratch / "runs", out=ROOT / "results" / study.name)
        target = study_dir(runs_dir, study.name)
        for config in configs:
            if not (target / config.run_id).exists():
                shutil.copytree(study_dir(scratch / "runs", study.name) / config.run_id, target / config.run_id)
    print(f"{name}: {seconds:.0f} s; results in results/{study.name}/", flush=True)
    return {
        "exercise": name,
        "runs": len(configs),
        "workers": workers,
        "cores": os.cpu_count(),
        "seconds": round(seconds, 1),
        "base_models_cached": cached,
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exercise", action="append", choices=list(lab.EXERCISES), help="one exercise (repeatable; default: all)"
    )
    parser.add_argument("--workers", type=int, default=lab.WORKERS, help=f"runs at a time (default {lab.WORKERS})")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs", help="where the measured runs are kept")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache", help="where the default base models are")
    args = parser.parse_args()

    target = ROOT / lab.TIMES
    for name in args.exercise or list(lab.EXERCISES):
        row = measure(name, args.workers, args.runs_dir, args.cache_dir)
        # Written after each exercise, so a later failure keeps the times measured before it.
        measured = pd.read_csv(target).to_dict("records") if target.is_file() else []
        kept = [r for r in measured if r["exercise"] != name]
        order = list(lab.EXERCISES)
        rows = sorted([*kept, row], key=lambda r: order.index(r["exercise"]))
        target.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows, columns=list(lab.TIME_COLUMNS)).to_csv(target, index=False)
        print(f"wrote {target}", flush=True)


if __name__ == "__main__":
    main()
