"""The verdict rule, the world's contrasts on a small synthetic study, and the scorecard's shape."""

import math

import pandas as pd
import pytest

from cltbook.languages import PAPER_SEEN, PAPER_UNSEEN
from cltbook.report import published, scorecard

MATH = "math_reasoning"
HEADLINE = "accuracy_strict_switch_aware"  # calibration.headline(MATH)
ITEMS = 20


def contrast_row(value, low, high, reason="", task=MATH, advice=scorecard.SERVED_LANGUAGES):
    return {
        "guideline": 1,
        "advice": advice,
        "task": task,
        "evidence": "synthetic",
        "needs": "above",
        "value": value,
        "low": low,
        "high": high,
        "reason": reason,
    }


@pytest.mark.parametrize(
    "low, high, direction, expected",
    [
        (0.1, 0.3, "above", "agree"),
        (-0.3, -0.1, "above", "disagree"),
        (-0.3, -0.1, "below", "agree"),
        (0.1, 0.3, "below", "disagree"),
        (-0.1, 0.3, "above", "not identifiable"),
        (-0.1, 0.3, "zero", "not identifiable"),
        (0.1, 0.3, "zero", "disagree"),
    ],
)
def test_verdict_follows_the_interval(low, high, direction, expected):
    row = pd.Series(contrast_row((low + high) / 2, low, high))
    verdict, reason = scorecard.contrast_verdict(row, direction)
    assert verdict == expected
    assert reason


def test_a_contrast_without_an_estimate_is_not_identifiable_with_its_reason():
    row = pd.Series(contrast_row(math.nan, math.nan, math.nan, reason="one seed per setting"))
    assert scorecard.contrast_verdict(row, "above") == ("not identifiable", "one seed per setting")
    assert scorecard.contrast_verdict(None, "above")[0] == "not identifiable"


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        scorecard.contrast_verdict(pd.Series(contrast_row(0.2, 0.1, 0.3)), "up")


def every_task(low, high, advice=scorecard.SERVED_LANGUAGES):
    return [contrast_row((low + high) / 2, low, high, task=task, advice=advice) for task in scorecard.PAPER_TASKS]


def card_for(rows):
    return scorecard.scorecard(pd.DataFrame(rows), published.claims_table()).set_index("claim")


def test_scorecard_has_one_row_per_claim_and_known_verdicts():
    card = card_for(every_task(0.1, 0.3))
    claims = published.claims_table()
    assert list(card.index) == list(claims["claim"])
    assert set(card["verdict"]) <= set(scorecard.VERDICTS)
    assert (card["paper_verdict"] == claims.set_index("claim")["verdict"]).all()
    assert card.loc[1, "verdict"] == card.loc[2, "verdict"] == "agree"
    for untestable in (4, 7, 9):
        assert card.loc[untestable, "verdict"] == "not identifiable"
        assert card.loc[untestable, "reason"] == scorecard.CLAIM_TESTS[untestable].reason


def test_a_claim_over_several_tasks_needs_every_task():
    rows = every_task(0.1, 0.3)
    rows[1] = contrast_row(0.1, -0.1, 0.3, task=rows[1]["task"])
    assert card_for(rows).loc[1, "verdict"] == "not identifiable"
    rows[2] = contrast_row(-0.2, -0.3, -0.1, task=rows[2]["task"])
    assert card_for(rows).loc[1, "verdict"] == "disagree"


def test_a_missing_estimate_or_task_leaves_the_claim_not_identifiable():
    rows = every_task(0.1, 0.3)
    rows[0] = contrast_row(math.nan, math.nan, math.nan, reason="the study lacks runs", task=MATH)
    card = card_for(rows)
    assert card.loc[1, "verdict"] == "not identifiable"
    assert "the study lacks runs" in card.loc[1, "reason"]
    assert card_for(every_task(0.1, 0.3)[1:]).loc[1, "verdict"] == "not identifiable"


def test_a_constant_gap_claim_is_contradicted_by_an_interval_off_zero():
    rows = every_task(0.1, 0.3, advice=scorecard.SEEN_OVER_UNSEEN)
    assert card_for(rows).loc[5, "verdict"] == "disagree"
    rows = every_task(-0.1, 0.3, advice=scorecard.SEEN_OVER_UNSEEN)
    assert card_for(rows).loc[5, "verdict"] == "not identifiable"


def test_every_mapped_contrast_names_an_advice_of_the_guidelines():
    advice = {
        scorecard.SERVED_LANGUAGES,
        scorecard.UNSEEN_TRANSFER,
        scorecard.SEEN_OVER_UNSEEN,
        scorecard.ENGLISH_KEPT,
        scorecard.SWITCH_AWARE,
        scorecard.LARGER_MODEL,
        scorecard.MULTI_TASK_COST,
        scorecard.TARGET_SCRIPT,
        scorecard.REPLICATE,
    }
    for test in scorecard.CLAIM_TESTS.values():
        assert test.advice is None or test.advice in advice
        assert (test.advice is None) == (test.direction is None) == (not test.tasks)
        assert set(test.tasks) <= set(scorecard.PAPER_TASKS)


def test_scorecard_refuses_a_contrast_frame_without_intervals():
    with pytest.raises(ValueError, match="low"):
        scorecard.scorecard(pd.DataFrame(every_task(0.1, 0.3)).drop(columns="low"), published.claims_table())


# A synthetic study: the paper's design on math at n = 0 and n = 100, one seed. Seen languages
# answer every item right at n = 100 and the odd items at n = 0; the others stay at the odd items.


def synthetic_study():
    languages = ("en", *PAPER_SEEN, *PAPER_UNSEEN)
    runs = {"n0": 0, "n100": 100}
    results = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "task": MATH,
                "setting": "single",
                "mixture_design": "augmentation",
                "seen_languages": "es,fr,ja,zh",
                "model_size": "tiny",
                "n_per_language": n,
                "seed": 0,
                "training_steps": 150,
                "learning_rate": 3e-4,
                "language": language,
            }
            for run_id, n in runs.items()
            for language in languages
        ]
    )
    predictions = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "task": MATH,
                "language": language,
                "item_id": item,
                HEADLINE: float(n > 0 and language in PAPER_SEEN or item % 2),
                "accuracy_flexible": 1.0,
            }
            for run_id, n in runs.items()
            for language in languages
            for item in range(ITEMS)
        ]
    )
    return results, predictions


def test_guideline_contrasts_on_a_synthetic_study():
    contrasts = scorecard.guideline_contrasts(*synthetic_study(), n_boot=200)
    assert list(contrasts.columns) == list(scorecard.CONTRAST_COLUMNS)
    assert set(contrasts["task"]) == {MATH}
    by_advice = contrasts.set_index("advice")
    seen_gain = by_advice.loc[scorecard.SERVED_LANGUAGES]
    assert seen_gain["value"] == pytest.approx(0.5)
    assert 0 < seen_gain["low"] <= seen_gain["high"] < 1
    assert by_advice.loc[scorecard.UNSEEN_TRANSFER, "value"] == pytest.approx(0)
    assert by_advice.loc[scorecard.SEEN_OVER_UNSEEN, "value"] == pytest.approx(0.5)
    # Language-blind credit after English-only training: 1 minus the odd items' 1.
    assert by_advice.loc[scorecard.SWITCH_AWARE, "value"] == pytest.approx(0.5)
    for absent in (scorecard.LARGER_MODEL, scorecard.MULTI_TASK_COST, scorecard.TARGET_SCRIPT, scorecard.REPLICATE):
        assert math.isnan(by_advice.loc[absent, "low"])
        assert by_advice.loc[absent, "reason"]
    card = scorecard.scorecard(contrasts, published.claims_table()).set_index("claim")
    assert "math_reasoning: agree" in card.loc[1, "reason"]
    assert card.loc[1, "verdict"] == "not identifiable"  # no summarization or IF runs
    assert card.loc[6, "verdict"] == "not identifiable"


def test_guideline_contrasts_can_keep_only_the_tested_pairs():
    kept = scorecard.guideline_contrasts(*synthetic_study(), n_boot=50, only=scorecard.TESTED_CONTRASTS)
    assert set(zip(kept["advice"], kept["task"])) == {pair for pair in scorecard.TESTED_CONTRASTS if pair[1] == MATH}


@pytest.mark.parametrize(
    "low, high, needs, expected",
    [
        (0.1, 0.3, "above", "supported"),
        (-0.3, -0.1, "above", "contradicted"),
        (-0.3, -0.1, "below", "supported"),
        (0.1, 0.3, "below", "contradicted"),
        (-0.1, 0.3, "above", "not shown (interval includes 0)"),
        (-0.1, 0.3, "not below", "not contradicted (interval includes 0)"),
        (0.1, 0.3, "not below", "supported"),
        (-0.3, -0.1, "not below", "contradicted"),
        (-0.3, -0.1, "either", "supported"),
        (-0.1, 0.3, "either", "not shown (interval includes 0)"),
    ],
)
def test_a_guideline_verdict_follows_the_side_its_advice_needs(low, high, needs, expected):
    estimate = scorecard.row_estimate(pd.Series(contrast_row((low + high) / 2, low, high)))
    assert scorecard.guideline_verdict(estimate, needs) == expected


def test_a_guideline_without_an_interval_has_no_evidence_and_an_unknown_side_is_refused():
    row = pd.Series(contrast_row(math.nan, math.nan, math.nan, reason="one seed per setting"))
    estimate = scorecard.row_estimate(row)
    assert estimate.reason == "one seed per setting"
    assert scorecard.guideline_verdict(estimate, "above") == "no evidence"
    with pytest.raises(ValueError, match="needs"):
        scorecard.guideline_verdict(estimate, "up")


def test_the_guidelines_table_words_each_contrast_with_its_verdict():
    contrasts = scorecard.guideline_contrasts(*synthetic_study(), n_boot=50)
    table = scorecard.guidelines_table(contrasts)
    described = ["guideline", "advice", "task", "evidence"]
    assert list(table.columns) == [*described, "estimate (95% CI)", "verdict"]
    assert isinstance(table.index, pd.RangeIndex)  # its CSV download has no row numbers
    assert table[described].equals(contrasts[described])
    without = table["estimate (95% CI)"].str.startswith("n/a (")
    assert ((table["verdict"] == "no evidence") == without).all()
    assert without.any() and not without.all()
    served = table.set_index("advice").loc[scorecard.SERVED_LANGUAGES]
    assert served["verdict"] == "supported"
    assert served["estimate (95% CI)"].startswith("0.50 (95% CI ")
