"""Run studies/knobs.yaml and write its summary to book/data/knob_sweep.csv (world chapter).

`python bench/knob_sweep.py [--workers 2]`. One row per knob setting and language: the headline
score, the language-blind score, per-step credit and the share of answers in the prompt's language
after English-only fine-tuning, with the run id and the git commit that produced it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cltbook.analysis import difference_estimate, group_estimate  # noqa: E402
from cltbook.config import load_study  # noqa: E402
from cltbook.store import collect, read_record  # noqa: E402
from cltbook.study import run_study  # noqa: E402

STUDY = ROOT / "studies" / "knobs.yaml"
TASK = "math_reasoning"
METRICS = ("accuracy_strict_switch_aware", "accuracy_flexible", "first_step_correct", "language_match")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    outcome = run_study(STUDY, runs_root=ROOT / "runs", cache_dir=ROOT / ".cache", root=ROOT, workers=args.workers)
    if outcome["failed"]:
        raise SystemExit(f"failed runs: {outcome['failed']}")
    study = load_study(STUDY)
    configs = {c.run_id: c for c in study.expand()}
    metrics = collect(ROOT / "runs", study.name, list(configs))["metrics"]
    rows = metrics[metrics["metric"].isin(METRICS)].copy()
    rows["knobs"] = rows["run_id"].map(lambda r: ", ".join(
        f"{k} {getattr(configs[r].world, k):g}" for k in ("parallel_share", "code_switch_share", "glossary_share")))
    rows["max_steps"] = rows["run_id"].map(lambda r: configs[r].training.max_steps)
    rows["commit"] = rows["run_id"].map(lambda r: read_record(ROOT / "runs" / study.name / r)["provenance"]["git"]["commit"][:10])
    out = rows.pivot_table(index=["knobs", "run_id", "max_steps", "commit", "language"], columns="metric", values="value").reset_index()
    path = ROOT / "book" / "data" / "knob_sweep.csv"
    out.to_csv(path, index=False, float_format="%.4f")
    print(f"wrote {path}")

    # The chapter's sentences: each setting's English and non-English scores with 95% intervals
    # over items (resampled jointly across the parallel languages), and the difference from the
    # default setting's non-English score, items paired.
    predictions = collect(ROOT / "runs", study.name, list(configs))["predictions"]
    knobs = rows.drop_duplicates("run_id").set_index("run_id")["knobs"]
    default = next(r for r, c in configs.items() if c.world == type(c.world)())
    others = ["es", "fr", "ja", "zh", "ar", "ko", "pt"]  # every language but the anchor
    estimates = []
    for run_id in configs:
        for name, metric, languages, baseline in (
            ("english", "accuracy_strict_switch_aware", ["en"], None),
            ("non_english", "accuracy_strict_switch_aware", others, None),
            ("non_english_language_blind", "accuracy_flexible", others, None),
            ("non_english_first_step", "first_step_correct", others, None),
            ("non_english_language_match", "language_match", others, None),
            ("non_english_minus_default", "accuracy_strict_switch_aware", others, default),
        ):
            if baseline is not None and run_id == baseline:
                continue
            e = (difference_estimate(predictions, [run_id], [baseline], TASK, metric, languages) if baseline
                 else group_estimate(predictions, [run_id], TASK, metric, languages))
            estimates.append({"knobs": knobs[run_id], "run_id": run_id, "estimate": name,
                              "value": e.value, "low": e.low, "high": e.high})
    path = ROOT / "book" / "data" / "knob_sweep_estimates.csv"
    pd.DataFrame(estimates).to_csv(path, index=False, float_format="%.4f")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
