"""Transfer quantities on hand-computed tables: every number below is worked out in the comment."""

import math

import numpy as np
import pandas as pd
import pytest

from cltbook.report import metrics

PAPER_LANGUAGES = ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]


def tidy(values_by_run: dict[str, list[float]]) -> pd.DataFrame:
    """One row per (run, language), languages in the paper's order."""
    return pd.DataFrame(
        [
            {"run": run, "language": language, "value": value}
            for run, values in values_by_run.items()
            for language, value in zip(PAPER_LANGUAGES, values, strict=True)
        ]
    )


# en=1, es=2, fr=3, ja=4, zh=5, ar=6, ko=7, pt=8 (run a); run b doubles every value.
TABLE = tidy({"a": [1, 2, 3, 4, 5, 6, 7, 8], "b": [2, 4, 6, 8, 10, 12, 14, 16]})


def test_group_averages_with_the_papers_roles():
    averages = metrics.group_averages(TABLE, ["run"]).set_index("run")
    a = averages.loc["a"]
    assert a["anchor"] == 1
    assert a["seen_avg"] == pytest.approx((2 + 3 + 4 + 5) / 4)
    assert a["unseen_avg"] == pytest.approx((6 + 7 + 8) / 3)
    assert a["seen_unseen_avg"] == pytest.approx(35 / 7)  # English left out
    assert a["latin_avg"] == pytest.approx((2 + 3 + 8) / 3)  # es fr pt
    assert a["non_latin_avg"] == pytest.approx((4 + 5 + 6 + 7) / 4)  # ja zh ar ko
    assert a["all_avg"] == pytest.approx(36 / 8)  # English included, as the printed Avg.
    assert averages.loc["b", "seen_unseen_avg"] == pytest.approx(10)
    assert list(averages.columns) == list(metrics.AVERAGE_COLUMNS)


def test_group_averages_with_caller_roles_keeps_script_groups():
    # A Latin-only mix: seen es fr, every other language unseen.
    averages = metrics.group_averages(
        TABLE[TABLE["run"] == "a"],
        ["run"],
        seen=["es", "fr"],
        unseen=["ja", "zh", "ar", "ko", "pt"],
    ).iloc[0]
    assert averages["seen_avg"] == pytest.approx(2.5)
    assert averages["unseen_avg"] == pytest.approx((4 + 5 + 6 + 7 + 8) / 5)
    assert averages["latin_avg"] == pytest.approx(13 / 3)


def test_group_averages_fails_loudly_on_holes_repeats_and_role_clashes():
    with pytest.raises(ValueError, match="lack a value"):
        metrics.group_averages(TABLE[TABLE["language"] != "ko"], ["run"])
    with pytest.raises(ValueError, match="more than one value"):
        metrics.group_averages(pd.concat([TABLE, TABLE.iloc[:1]]), ["run"])
    with pytest.raises(ValueError, match="two roles"):
        metrics.group_averages(TABLE, ["run"], seen=["es", "ar"], unseen=["ar", "ko"])


def test_relative_to_anchor_candidates():
    assert metrics.ratio(3.0, 4.0) == pytest.approx(0.75)
    assert metrics.floor_adjusted_ratio(3.0, 4.0, floor=1.0) == pytest.approx(2 / 3)
    assert metrics.difference(3.0, 4.0) == pytest.approx(1.0)
    by_name = {name: f(3.0, 4.0, 1.0) for name, f in metrics.RELATIVE_TO_ANCHOR.items()}
    assert by_name == pytest.approx({"ratio": 0.75, "floor_adjusted_ratio": 2 / 3, "difference": 1})
    # A 0-1 metric has floor 0, where the two ratios agree.
    assert metrics.floor_adjusted_ratio(0.3, 0.6, floor=0.0) == metrics.ratio(0.3, 0.6)
    assert metrics.BOOK_RELATIVE_DEFINITION in metrics.RELATIVE_TO_ANCHOR


def test_gap_closed_three_readings():
    # Ratio 3/4 = 0.75 → 3.6/4 = 0.90: +15 points, 15 of the 25 missing points = 60 %, avg +20 %.
    closed = metrics.gap_closed(3.0, 4.0, 3.6, 4.0)
    assert closed.points == pytest.approx(15)
    assert closed.share_of_gap == pytest.approx(60)
    assert closed.relative_improvement == pytest.approx(20)
    # Above a floor of 1: 2/3 → 2.6/3: +20 points, 0.2 of 1/3 = 60 %, gain 2 → 2.6 = +30 %.
    floored = metrics.gap_closed(3.0, 4.0, 3.6, 4.0, floor=1.0)
    assert floored.points == pytest.approx(20)
    assert floored.share_of_gap == pytest.approx(60)
    assert floored.relative_improvement == pytest.approx(30)


def over_n(seen_values, unseen_values) -> pd.DataFrame:
    """A table over mixture points where es carries the seen average and ar the unseen one."""
    rows = []
    for point, (seen, unseen) in enumerate(zip(seen_values, unseen_values, strict=True)):
        values = {"en": 9.0, "es": seen, "fr": 0, "ja": 0, "zh": 0, "ar": unseen, "ko": 0, "pt": 0}
        rows += [
            {"n_per_language": 100 * point, "language": language, "value": value} for language, value in values.items()
        ]
    return pd.DataFrame(rows)


def test_spearman_seen_unseen():
    # Ranks 1..5 against 2 1 4 3 5: sum of d² = 4, rho = 1 − 6·4 / (5·24) = 0.8.
    result = metrics.spearman_seen_unseen(over_n([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]))
    assert result.rho == pytest.approx(0.8)
    assert result.points == 5
    assert 0 < result.p < 1
    assert metrics.spearman_seen_unseen(over_n([1, 2, 3, 4], [4, 3, 2, 1])).rho == pytest.approx(-1)


GRID = np.array([0, 100, 200, 400, 800, 1000, 2000, 5000], dtype=float)


def test_samples_to_plateau_recovers_a_known_curve():
    # y = 1 − 0.5·exp(−n/300): 95 % of the gain at n = 300·ln 20 ≈ 898.7.
    fit = metrics.samples_to_plateau(GRID, 1 - 0.5 * np.exp(-GRID / 300))
    assert fit.identified
    assert fit.c == pytest.approx(300, rel=1e-4)
    assert fit.n_plateau == pytest.approx(300 * math.log(20), rel=1e-4)


@pytest.mark.parametrize(
    ("n", "y", "reason"),
    [
        (GRID[:3], [0.0, 1.0, 2.0], "at least 4"),
        (GRID, 1 + 0.5 * np.exp(-GRID / 300), "no gain"),
        (GRID, np.r_[0.0, np.ones(7)], "below the first non-zero n"),
        (GRID, GRID / 5000, "exceeds the largest n"),
        (GRID, [0, 0.5, 0.2, 0.7, 0.3, 0.9, 0.4, 0.6], "not identified"),
    ],
    ids=["too-few-points", "falling", "step-before-first-point", "still-rising", "noise"],
)
def test_samples_to_plateau_refuses_with_a_reason(n, y, reason):
    fit = metrics.samples_to_plateau(n, y)
    assert not fit.identified
    assert math.isnan(fit.n_plateau)
    assert reason in fit.refusal


def test_samples_to_plateau_rejects_bad_input():
    with pytest.raises(ValueError, match="negative"):
        metrics.samples_to_plateau([-1, 0, 1, 2], [0, 1, 2, 3])
    with pytest.raises(ValueError, match="differ in length"):
        metrics.samples_to_plateau([0, 1, 2, 3], [0, 1])


def test_samples_to_near_peak():
    n, y = [0, 100, 200, 400], [0.0, 0.5, 0.95, 1.0]
    assert metrics.samples_to_near_peak(n, y, tolerance=0.1) == 200
    assert metrics.samples_to_near_peak(n, y, tolerance=0.01) == 400


def test_fitted_change_on_log1p_scale():
    # log(1+n) = 0, 1, 2 and y = 1, 3, 5: slope 2 over a span of 2 → change 4.
    n = [0, math.e - 1, math.e**2 - 1]
    assert metrics.fitted_change(n, [1, 3, 5]) == pytest.approx(4)


def test_bootstrap_resamples_items_jointly_across_languages():
    rng = np.random.default_rng(1)
    scores = rng.random((50, 1))
    paired = np.hstack([scores, scores])  # language B scores exactly as language A, item by item
    estimate, low, high = metrics.bootstrap_ci(
        paired, lambda table: table[:, 0].mean() - table[:, 1].mean(), n_boot=200, seed=0
    )
    # Resampling languages apart would spread this difference; resampling rows keeps it at 0.
    assert (estimate, low, high) == (0.0, 0.0, 0.0)


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    values = pd.DataFrame({"en": np.arange(20.0), "es": np.arange(20.0) + 1})
    result = metrics.bootstrap_ci(values, lambda table: table["es"].mean(), n_boot=500, seed=3)
    estimate, low, high = result
    assert estimate == pytest.approx(10.5)
    assert low < estimate < high
    assert result == metrics.bootstrap_ci(values, lambda t: t["es"].mean(), n_boot=500, seed=3)


def test_bootstrap_resamples_seeds():
    # Two seeds, constant within a seed (0 and 10): only seed resampling moves the mean, and a
    # replicate's mean is 0, 5 or 10.
    data = np.stack([np.zeros((30, 2)), np.full((30, 2), 10.0)])
    estimate, low, high = metrics.bootstrap_ci(data, np.mean, n_boot=400, seed=0)
    assert (estimate, low, high) == (5.0, 0.0, 10.0)
    items_only = metrics.bootstrap_ci(data[:1], np.mean, n_boot=400, seed=0)
    assert items_only == (0.0, 0.0, 0.0)


def test_bootstrap_rejects_bad_shapes_and_levels():
    with pytest.raises(ValueError, match="1-D"):
        metrics.bootstrap_ci(np.arange(5.0), np.mean)
    with pytest.raises(ValueError, match="level"):
        metrics.bootstrap_ci(np.ones((3, 2)), np.mean, level=1.0)


def test_bootstrap_of_a_numeric_frame_resamples_whole_item_rows_like_iloc():
    """The frame fast path draws the same item rows as resampling with .iloc does."""
    rng = np.random.default_rng(3)
    frame = pd.concat(
        {
            "a": pd.DataFrame(rng.random((30, 3)), columns=["es", "fr", "ja"]),
            "b": pd.DataFrame(rng.integers(0, 2, (30, 3)), columns=["es", "fr", "ja"]),
        },
        axis=1,
    )

    def statistic(t):
        return float(t["a"].to_numpy().mean() - t["b"].to_numpy().mean())

    with_text = frame.copy()
    with_text[("note", "")] = "x"  # a text column: resampled through .iloc
    fast = metrics.bootstrap_ci(frame, statistic, n_boot=200, seed=7)
    assert fast == pytest.approx(metrics.bootstrap_ci(with_text, statistic, n_boot=200, seed=7), abs=1e-12)
    assert fast[1] < fast[0] < fast[2]


def test_bootstrap_of_items_is_scipys_percentile_bootstrap_over_item_ids():
    """An items × languages table: scipy's percentile bootstrap of the item ids, rows following."""
    from scipy import stats

    table = np.random.default_rng(5).random((40, 3))

    def statistic(t):
        return float(t[:, 0].mean() - t[:, 1:].mean())

    expected = stats.bootstrap(
        (np.arange(40),),
        lambda items: statistic(table[items]),
        n_resamples=300,
        vectorized=False,
        method="percentile",
        rng=np.random.default_rng(11),
    ).confidence_interval
    assert metrics.bootstrap_ci(table, statistic, n_boot=300, seed=11)[1:] == pytest.approx(tuple(expected))
