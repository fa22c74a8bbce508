"""`make book` cold and warm from a fresh clone: `python bench/make_book.py`, writes bench/book.json.

Clones the repository's HEAD into a temporary folder, then times, one after the other:
`make install`; the three steps of `make book` with an empty cache, one by one (`make study`:
pretraining and the study's runs, which overlap; `cltbook collect`; `make render`);
and `make book` again (warm: every run has a record, the book's execution cache is valid). Each
base model's pretraining time and thread count are read from its `pretraining.json`. Run it on an
idle machine: the figures are wall-clock times, not ratios. pip's download cache is not cleared.
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
        subprocess.run(
            command,
            cwd=cwd,
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    return time.perf_counter() - started


def main() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "cltbook"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        log = Path(scratch) / "make.log"
        install = timed(["make", "install"], clone, log)
        study_seconds = timed(["make", "study"], clone, log)
        collect = timed([str(clone / ".venv" / "bin" / "cltbook"), "collect", "studies/default.yaml"], clone, log)
        render = timed(["make", "render"], clone, log)
        warm = timed(["make", "book"], clone, log)
        pretraining = [json.loads(p.read_text()) for p in (clone / ".cache" / "base_models").glob("*/pretraining.json")]
        study = subprocess.run(
            [
                str(clone / ".venv" / "bin" / "python"),
                "-c",
                "import yaml; print(yaml.safe_load(open('studies/default.yaml'))['name'])",
            ],
            cwd=clone,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        runs = pd.read_parquet(clone / "results" / study / "runs.parquet")
    pretrain = ", ".join(
        f"{p['base_model']['size']} {sum(p['seconds'].values()):.0f} s with {p['threads']} "
        f"thread{'s' if p['threads'] > 1 else ''}"
        for p in sorted(pretraining, key=lambda p: sum(p["seconds"].values()))
    )
    cold = study_seconds + collect + render
    steps = [
        {"step": "install", "command": "make install", "seconds": round(install)},
        {
            "step": f"pretraining the base models side by side ({pretrain}) and the default study's "
            f"{len(runs)} runs, overlapping",
            "command": "make study",
            "seconds": round(study_seconds),
        },
        {
            "step": "collect the study's tables",
            "command": "cltbook collect studies/default.yaml",
            "seconds": round(collect),
        },
        {"step": "render the book", "command": "make render", "seconds": round(render)},
        {"step": "make book after install, cold", "command": "the three rows above", "seconds": round(cold)},
        {"step": "make book again, warm", "command": "make book", "seconds": round(warm)},
    ]
    result = {
        "command": "python bench/make_book.py",
        "commit": commit[:10],
        "cores": os.cpu_count(),
        "runs": len(runs),
        "steps": steps,
    }
    (ROOT / "bench" / "book.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(main())
