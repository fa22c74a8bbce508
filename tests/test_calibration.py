"""Calibration checks and the prose formatter, on tables built by hand."""

import numpy as np
import pandas as pd
import pytest

from cltbook import calibration
from cltbook.report import Estimate, fmt

LANGS = ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]
ROLES = {"en": "anchor", **{c: "seen" for c in ("es", "fr", "ja", "zh")}, **{c: "unseen" for c in ("ar", "ko", "pt")}}


def run_rows(run_id, design, n, size="tiny"):
    return [{"run_id": run_id, "task": "math_reasoning", "language": code, "role": ROLES[code],
             "metric": "accuracy_strict_switch_aware", "value": 0.0, "mixture_design": design,
             "setting": "single", "n_per_language": n, "model_size": size} for code in LANGS]


def predictions_for(run_id, scores: dict[str, np.ndarray]):
    return pd.DataFrame([{"run_id": run_id, "task": "math_reasoning", "language": code, "item_id": f"i{i}",
                          "accuracy_strict_switch_aware": float(v)}
                         for code, values in scores.items() for i, v in enumerate(values)])


def test_transfer_checks_compare_paired_items_against_the_base_model():
    rng = np.random.default_rng(0)
    items = 200
    tuned = {code: (rng.random(items) < (0.5 if code == "en" else 0.3 if ROLES[code] == "seen" else 0.02))
             for code in LANGS}
    base = {code: np.zeros(items) for code in LANGS}
    results = pd.DataFrame(run_rows("t", "augmentation", 0) + run_rows("b", "none", 0))
    predictions = pd.concat([predictions_for("t", tuned), predictions_for("b", base)])
    checks = calibration.transfer_checks(results, predictions).set_index("check")
    english = checks.loc["english_in_range"]
    assert english["estimate"] == pytest.approx(tuned["en"].mean())
    assert english["verdict"] == "holds" and english["ci_low"] >= 0.15
    seen = checks.loc["seen_beats_base"]
    assert seen["estimate"] == pytest.approx(np.mean([tuned[c].mean() for c in ("es", "fr", "ja", "zh")]))
    assert seen["verdict"] == "holds" and seen["ci_low"] > 0
    unseen = checks.loc["unseen_beats_base"]  # 2% of 600 answers: an interval that may touch 0
    assert unseen["estimate"] == pytest.approx(np.mean([tuned[c].mean() for c in ("ar", "ko", "pt")]))
    assert (unseen["verdict"] == "holds") == (unseen["ci_low"] > 0)


def test_english_at_the_ceiling_is_out_of_range():
    perfect = {code: np.ones(100) for code in LANGS}
    results = pd.DataFrame(run_rows("t", "augmentation", 0))
    checks = calibration.transfer_checks(results, predictions_for("t", perfect))
    (english,) = checks[checks["check"] == "english_in_range"].itertuples()
    assert english.verdict == "does not hold" and english.estimate == 1.0


def test_loss_checks_need_non_overlapping_intervals():
    def rows(model, size, params, value, unigram):
        return [{"base_model": model, "model_size": size, "non_embedding_parameters": params, "language": "es",
                 "predictor": p, "loss": v, "ci_low": v - 0.01, "ci_high": v + 0.01}
                for p, v in (("model", value), ("unigram", unigram))]
    card = pd.DataFrame(rows("a", "tiny", 1, 0.70, 4.0) + rows("b", "small", 2, 0.65, 4.0))
    checks = calibration.loss_checks(card)
    assert set(checks[checks["check"] == "loss_below_unigram"]["verdict"]) == {"holds"}
    (falls,) = checks[checks["check"] == "loss_falls_with_size"].itertuples()
    assert falls.verdict == "holds" and falls.model_size == "small"
    close = pd.DataFrame(rows("a", "tiny", 1, 0.70, 4.0) + rows("b", "small", 2, 0.695, 4.0))
    (falls,) = calibration.loss_checks(close).query("check == 'loss_falls_with_size'").itertuples()
    assert falls.verdict == "does not hold"


def test_the_formatter_always_gives_an_interval_or_a_reason():
    assert fmt(Estimate(0.4123, 0.33, 0.49)) == "0.41 (95% CI 0.33 to 0.49)"
    assert fmt(Estimate(0.0512, 0.02, 0.08), percent=True, digits=3) == "5.1 pp (95% CI 2.0 to 8.0)"
    assert fmt(Estimate(0.4, reason="one seed")) == "0.40 (no interval: one seed)"
    with pytest.raises(ValueError, match="either an interval"):
        Estimate(0.4)
    with pytest.raises(ValueError, match="outside its interval"):
        Estimate(0.9, 0.1, 0.2)
    assert Estimate(0.1, 0.02, 0.2).excludes_zero and not Estimate(0.1, -0.02, 0.2).excludes_zero
