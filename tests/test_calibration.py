"""Calibration checks and the prose formatter, on tables built by hand."""

import numpy as np
import pandas as pd
import pytest

from cltbook.report import calibration
from cltbook.report.estimate import Estimate, fmt

LANGS = ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]
ROLES = {"en": "anchor", **{c: "seen" for c in ("es", "fr", "ja", "zh")}, **{c: "unseen" for c in ("ar", "ko", "pt")}}


HEADLINE = "accuracy_strict_switch_aware"
SEEN, UNSEEN = ("es", "fr", "ja", "zh"), ("ar", "ko", "pt")


def run_rows(run_id, design, n, size="tiny", steps=150, rate=3e-4):
    return [
        {
            "run_id": run_id,
            "task": "math_reasoning",
            "language": code,
            "role": ROLES[code],
            "metric": HEADLINE,
            "value": 0.0,
            "mixture_design": design,
            "setting": "single",
            "n_per_language": n,
            "model_size": size,
            "seen_languages": "es,fr,ja,zh",
            "training_steps": 0 if design == "none" else steps,
            "learning_rate": 0.0 if design == "none" else rate,
        }
        for code in LANGS
    ]


def predictions_for(run_id, scores: dict[str, np.ndarray], matched: dict[str, np.ndarray] | None = None):
    matched = matched or {code: np.ones(len(values)) for code, values in scores.items()}
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "task": "math_reasoning",
                "language": code,
                "item_id": f"i{i}",
                HEADLINE: float(v),
                "language_match": float(matched[code][i]),
            }
            for code, values in scores.items()
            for i, v in enumerate(values)
        ]
    )


def draws(rng, items, rates):
    return {code: (rng.random(items) < rates[code]).astype(float) for code in LANGS}


def test_transfer_checks_compare_paired_items_against_the_base_model():
    rng = np.random.default_rng(0)
    items = 200
    tuned = draws(rng, items, {code: 0.9 if code == "en" else 0.3 if code in SEEN else 0.02 for code in LANGS})
    in_language = draws(rng, items, {code: 0.7 for code in LANGS})
    base = {code: np.zeros(items) for code in LANGS}
    results = pd.DataFrame(run_rows("t", "augmentation", 0) + run_rows("b", "none", 0))
    predictions = pd.concat([predictions_for("t", tuned, in_language), predictions_for("b", base)])
    checks = calibration.transfer_checks(results, predictions).set_index("check")
    english = checks.loc["english_elicited"]
    assert english["estimate"] == pytest.approx(tuned["en"].mean())
    assert english["verdict"] == "holds" and english["ci_low"] < english["estimate"] < english["ci_high"]
    seen = checks.loc["seen_beats_base"]
    assert seen["estimate"] == pytest.approx(np.mean([tuned[c].mean() for c in SEEN]))
    assert seen["verdict"] == "holds" and seen["ci_low"] > 0
    unseen = checks.loc["unseen_beats_base"]  # 2% of 600 answers: an interval that may touch 0
    assert unseen["estimate"] == pytest.approx(np.mean([tuned[c].mean() for c in UNSEEN]))
    assert (unseen["verdict"] == "holds") == (unseen["ci_low"] > 0)
    matched = checks.loc["answers_in_prompt_language"]  # English's own answers do not count
    assert matched["estimate"] == pytest.approx(np.mean([in_language[c].mean() for c in (*SEEN, *UNSEEN)]))
    assert matched["verdict"] == "holds"


def test_english_below_its_target_and_answers_in_english_do_not_hold():
    rng = np.random.default_rng(1)
    weak = draws(rng, 100, {code: 0.5 for code in LANGS})
    english_answers = {code: np.zeros(100) for code in LANGS}
    results = pd.DataFrame(run_rows("t", "augmentation", 0))
    checks = calibration.transfer_checks(results, predictions_for("t", weak, english_answers)).set_index("check")
    assert checks.loc["english_elicited", "verdict"] == "does not hold"
    assert checks.loc["answers_in_prompt_language", "verdict"] == "does not hold"


def test_checks_against_n_and_over_training():
    rng = np.random.default_rng(2)
    items = 150
    zero = draws(rng, items, {code: 0.9 if code == "en" else 0.2 for code in LANGS})
    largest = draws(rng, items, {code: 0.9 if code in ("en", *SEEN) else 0.5 for code in LANGS})
    over_matched = {code: (rng.random(items) < 0.1).astype(float) for code in LANGS}
    results = pd.DataFrame(
        run_rows("z", "augmentation", 0)
        + run_rows("m", "augmentation", 30)
        + run_rows("l", "augmentation", 300)
        + run_rows("o", "augmentation", 0, steps=1000, rate=1e-3)
    )
    middle = draws(rng, items, {code: 0.5 for code in LANGS})
    predictions = pd.concat(
        [
            predictions_for("z", zero),
            predictions_for("m", middle),
            predictions_for("l", largest),
            predictions_for("o", zero, over_matched),
        ]
    )
    checks = calibration.transfer_checks(results, predictions).set_index("check")
    seen = checks.loc["seen_at_largest_n"]
    assert seen["estimate"] == pytest.approx(np.mean([largest[c].mean() for c in SEEN]))
    assert seen["verdict"] == "holds" and "n = 300" in seen["target"]
    rise = checks.loc["unseen_rises_with_n"]
    assert rise["estimate"] == pytest.approx(np.mean([largest[c].mean() - zero[c].mean() for c in UNSEEN]))
    assert rise["verdict"] == "holds"
    confused = checks.loc["confusion_when_over_trained"]
    assert confused["estimate"] == pytest.approx(np.mean([over_matched[c].mean() for c in (*SEEN, *UNSEEN)]))
    assert confused["verdict"] == "holds"
    # the over-trained run is never taken for the English-only run of the main budget
    assert checks.loc["english_elicited", "estimate"] == pytest.approx(zero["en"].mean())


def test_loss_checks_need_non_overlapping_intervals():
    def rows(model, size, params, value, unigram):
        return [
            {
                "base_model": model,
                "model_size": size,
                "non_embedding_parameters": params,
                "language": "es",
                "predictor": p,
                "loss": v,
                "ci_low": v - 0.01,
                "ci_high": v + 0.01,
            }
            for p, v in (("model", value), ("unigram", unigram))
        ]

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


def test_the_plateau_is_found_inside_the_grid_from_the_seen_average():
    rng = np.random.default_rng(5)
    items, grid, scale = 400, (0, 10, 30, 100, 300), 30.0
    results, predictions = [], []
    for n in grid:
        rate = 0.2 + 0.6 * (1 - np.exp(-n / scale))
        results += run_rows(f"r{n}", "augmentation", n)
        predictions.append(predictions_for(f"r{n}", draws(rng, items, {c: rate if c in SEEN else 0.2 for c in LANGS})))
    checks = calibration.transfer_checks(pd.DataFrame(results), pd.concat(predictions)).set_index("check")
    plateau = checks.loc["seen_plateau_inside_grid"]
    assert plateau["verdict"] == "holds" and "between n = 10 and 300" in plateau["target"]
    assert 0.5 * scale * np.log(20) < plateau["estimate"] < 2 * scale * np.log(20)  # 95% of the gain: 90
    three = [r for r in results if r["n_per_language"] in (0, 30, 300)]
    assert "seen_plateau_inside_grid" not in set(
        calibration.transfer_checks(pd.DataFrame(three), pd.concat(predictions))["check"]
    )
