"""Run studies/world-ablation.yaml and write what the world chapter shows about it.

`python bench/world_ablation.py [--workers 2] [--dry-run]`. Runs the study (skipping runs that
have a record), collects it to results/world-ablation/, then writes to book/data/:

- world_ablation.csv: one row per run and language: the setting and what it changes, n, the
  replicate, each metric of `cltbook.report.ablation.METRICS` and the commit that produced the run;
- world_ablation_estimates.csv: `cltbook.report.ablation.estimates` (anchor, seen and unseen averages
  with 95% intervals over items and replicates, and each setting minus the default);
- world_ablation.json: the command, the commit it was run at and the date.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cltbook.config import base_model_key, load_study  # noqa: E402
from cltbook.pipeline.store import git_state, read_record, study_dir  # noqa: E402
from cltbook.report import ablation  # noqa: E402
from cltbook.sweep.study import collect_study, missing_base_models, run_study  # noqa: E402

STUDY = ROOT / "studies" / "world-ablation.yaml"
DATA = ROOT / "book" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="local runs at a time (default 2)")
    parser.add_argument("--dry-run", action="store_true", help="list what would run, write nothing")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache")
    args = parser.parse_args()

    # 1. The runs (cltbook's driver shows progress and skips runs already done).
    study = load_study(STUDY)
    runs = ablation.run_table(study)  # refuses a study whose settings are not one ingredient each
    configs = study.expand()
    models = {base_model_key(c.world, c.base_model) for c in configs}
    missing = missing_base_models(configs, args.cache_dir)
    print(
        f"{study.name}: {len(configs)} runs in {runs['setting'].nunique()} settings, "
        f"{len(models)} base models ({len(missing)} not yet pretrained)"
    )
    outcome = run_study(
        STUDY, runs_root=args.runs_dir, cache_dir=args.cache_dir, root=ROOT, workers=args.workers, dry_run=args.dry_run
    )
    if args.dry_run:
        return
    if outcome["failed"]:
        raise SystemExit(
            f"{len(outcome['failed'])} runs failed: {', '.join(outcome['failed'])}; "
            f"see `cltbook status {STUDY.relative_to(ROOT)} -v --runs-dir {args.runs_dir}`"
        )

    # 2. Collect, score per run and language, estimate.
    results = collect_study(STUDY, runs_root=args.runs_dir, out=ROOT / "results" / study.name)
    scores = ablation.run_scores(pd.read_parquet(results / "metrics.parquet"), runs)
    commits = {
        run_id: read_record(study_dir(args.runs_dir, study.name) / run_id)["provenance"]["git"]["commit"][:10]
        for run_id in runs["run_id"]
    }
    scores["commit"] = scores["run_id"].map(commits)
    estimates = ablation.estimates(pd.read_parquet(results / "predictions.parquet"), scores)

    # 3. Write.
    DATA.mkdir(parents=True, exist_ok=True)
    scores.to_csv(DATA / "world_ablation.csv", index=False, float_format="%.4f")
    estimates.to_csv(DATA / "world_ablation_estimates.csv", index=False, float_format="%.4f")
    git = git_state(ROOT)
    provenance = {
        "command": " ".join(["python", "bench/world_ablation.py", *sys.argv[1:]]),
        "commit": git["commit"],
        "dirty": git["dirty"],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "study": str(STUDY.relative_to(ROOT)),
        "runs": len(configs),
        "base_models": len(models),
    }
    (DATA / "world_ablation.json").write_text(json.dumps(provenance, indent=1) + "\n")
    for name in ("world_ablation.csv", "world_ablation_estimates.csv", "world_ablation.json"):
        print(f"wrote {DATA / name}")


if __name__ == "__main__":
    main()
