"""`make book` cold and warm from a fresh clone: `python bench/make_book.py`, writes bench/book.json.

Clones the repository's HEAD into a temporary folder, then times, one after the other:
`make install`; `make book` with an empty cache (split into pretraining, the study's runs, and
collect + render, read from the base models' `pretraining.json` and the runs' records); and
`make book` again (warm: every run has a record, the book's execution cache is valid). Run it on
an idle machine: the figures are wall-clock times, not ratios. pip's download cache is not cleared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, log: Path) -> float:
    started = time.perf_counter()
    with log.open("a") as out:
        subprocess.run(command, cwd=cwd, check=True, stdout=out, stderr=subprocess.STDOUT,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return time.perf_counter() - started


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "cltbook"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        log = Path(scratch) / "make.log"
        install = timed(["make", "install"], clone, log)
        cold = timed(["make", "book"], clone, log)
        warm = timed(["make", "book"], clone, log)
        pretrain = sum(sum(json.loads(p.read_text())["seconds"].values())
                       for p in (clone / ".cache" / "base_models").glob("*/pretraining.json"))
        study = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c",
                                "import yaml; print(yaml.safe_load(open('studies/default.yaml'))['name'])"],
                               cwd=clone, capture_output=True, text=True, check=True).stdout.strip()
        runs = pd.read_parquet(clone / "results" / study / "runs.parquet")
    steps = [
        {"step": "install", "command": "make install", "seconds": round(install)},
        {"step": "pretraining the base models", "command": "first step of cltbook run", "seconds": round(pretrain)},
        {"step": f"the default study, {len(runs)} runs, and collect + render",
         "command": "rest of make book", "seconds": round(cold - pretrain)},
        {"step": "make book after install, cold", "command": "make book", "seconds": round(cold)},
        {"step": "make book again, warm", "command": "make book", "seconds": round(warm)},
    ]
    result = {"command": "python bench/make_book.py", "commit": commit[:10], "cores": os.cpu_count(),
              "runs": len(runs), "steps": steps}
    (ROOT / "bench" / "book.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(main())
