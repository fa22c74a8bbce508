"""Parallel workers against one: `python bench/workers.py`, writes bench/workers.json.

The same six fine-tuning runs (a study of its own, base model pretrained beforehand and shared)
executed with 1 worker × all cores and with 2 workers × half the cores each, fresh run folders
each time.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cltbook.sweep.study import run_study  # noqa: E402

STUDY = {
    "name": "bench-workers",
    "base": {
        "base_model": {"size": "tiny", "pretrain_steps": 700},
        "mixture": {"anchor_examples": 500},
        "training": {"max_steps": 100, "validation_per_language": 16},
        "evaluation": {"items_per_language": 20},
    },
    "grid": {"mixture.n_per_language": [0, 30, 300], "seed,data_seed": [[0, 0], [1, 1]]},
}


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as scratch:
        study = Path(scratch) / "study.yaml"
        study.write_text(yaml.safe_dump(STUDY))
        seconds, threads = [], []
        for workers in (1, 2):
            runs = Path(scratch) / "runs"
            shutil.rmtree(runs, ignore_errors=True)
            started = time.perf_counter()
            outcome = run_study(
                study, runs_root=runs, cache_dir=ROOT / ".cache", root=ROOT, workers=workers, echo=lambda *_: None
            )
            seconds.append(time.perf_counter() - started)
            threads.append(max(1, cores // workers))
            assert not outcome["failed"], outcome
    result = {"command": "python bench/workers.py", "runs": 6, "cores": cores, "threads": threads, "seconds": seconds}
    (ROOT / "bench" / "workers.json").write_text(json.dumps(result, indent=1))
    print(result)


if __name__ == "__main__":
    main()
