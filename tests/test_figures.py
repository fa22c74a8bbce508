"""The book's figures: one label and colour per language group and per kind of verdict, the forest
plot that draws estimates with their intervals, and the claims' forest plot."""

import math

import matplotlib.colors
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cltbook.languages import PAPER_SEEN, PAPER_UNSEEN
from cltbook.report import analysis, findings, published, scorecard, style

HEADLINE = "accuracy_strict_switch_aware"  # calibration.headline("math_reasoning")
ITEMS = 20


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn(fig):
    """(y, low, high, colour) of each interval line of a forest figure, (y, colour) of each cross
    at 0, and the y tick labels."""
    ax = fig.axes[0]
    intervals = [
        (line.get_ydata()[0], *line.get_xdata(), matplotlib.colors.to_hex(line.get_color()))
        for line in ax.lines
        if line.get_linewidth() == 2
    ]
    crosses = [
        (line.get_ydata()[0], matplotlib.colors.to_hex(line.get_color()))
        for line in ax.lines
        if line.get_marker() == "x"
    ]
    return intervals, crosses, [tick.get_text() for tick in ax.get_yticklabels()]


def forest_rows(**columns):
    rows = pd.DataFrame(
        {
            "label": ["a", "a", "b", "c"],
            "value": [0.1, 0.2, -0.3, math.nan],
            "low": [0.0, 0.1, -0.5, math.nan],
            "high": [0.2, 0.3, -0.1, math.nan],
            "colour": ["#000000", "#ff0000", "#00ff00", "#0000ff"],
        }
    )
    return rows.assign(**columns)


def test_the_forest_draws_each_interval_on_its_label_line_and_a_cross_where_there_is_none():
    rows = forest_rows()
    intervals, crosses, labels = drawn(style.forest(rows, {"x": "#000000"}, "difference"))
    assert labels == ["a", "b", "c"]  # one line per label, in order of appearance
    assert [(low, high, colour) for _, low, high, colour in intervals] == list(
        zip(rows["low"][:3], rows["high"][:3], rows["colour"][:3], strict=True)
    )
    ys = [y for y, *_ in intervals]
    assert ys[0] < 0 < ys[1] < 0.5 and ys[2] == 1  # the two rows labelled "a" share its line
    assert crosses == [(2, "#0000ff")]


def test_the_forest_refuses_an_empty_table_or_missing_columns():
    with pytest.raises(ValueError, match="empty"):
        style.forest(forest_rows().iloc[:0], {}, "difference")
    with pytest.raises(ValueError, match="colour"):
        style.forest(forest_rows().drop(columns="colour"), {}, "difference")


def test_every_language_group_has_one_label_naming_its_languages_and_its_own_colour():
    assert set(style.GROUP_LABELS) == set(style.GROUP_COLOURS) == set(analysis.LANGUAGE_GROUPS)
    assert len(set(style.GROUP_COLOURS.values())) == len(style.GROUP_COLOURS)
    assert style.GROUP_LABELS["anchor"] == "English"
    assert style.GROUP_LABELS["seen"] == f"seen ({', '.join(PAPER_SEEN)})"
    assert style.GROUP_LABELS["unseen"] == f"unseen ({', '.join(PAPER_UNSEEN)})"
    with pytest.raises(ValueError, match="language group"):
        style.group_label("mystery", ("xx",))


def test_each_vocabulary_of_verdicts_colours_the_same_meaning_alike():
    assert set(scorecard.VERDICT_COLOURS) == set(scorecard.VERDICTS)
    assert set(published.VERDICT_COLOURS) == set(published.VERDICTS)
    guideline = scorecard.GUIDELINE_VERDICT_COLOURS
    card = scorecard.VERDICT_COLOURS
    assert card["agree"] == guideline["supported"] == published.VERDICT_COLOURS["supported"] == style.HOLDS
    assert card["disagree"] == guideline["contradicted"] == published.VERDICT_COLOURS["not supported"] == style.FAILS
    assert card["not identifiable"] == guideline["not shown (interval includes 0)"] == style.OPEN
    assert len({style.HOLDS, style.FAILS, style.PARTLY, style.OPEN, style.ABSENT}) == 5


def test_a_verdict_cell_is_tinted_with_its_figure_colour_and_an_unknown_verdict_is_refused():
    assert style.tint("#000000", 0.25) == "#bfbfbf"
    assert style.tint(style.HOLDS, 1.0) == style.HOLDS
    table = pd.DataFrame({"claim": [1], "verdict": ["agree"]})
    html = style.verdicts_styled(table, scorecard.VERDICT_COLOURS).to_html()
    assert f"background-color: {style.tint(style.HOLDS)}" in html
    with pytest.raises(ValueError, match="no colour"):
        style.verdicts_styled(table.assign(verdict="maybe"), scorecard.VERDICT_COLOURS)


def contrast_rows(low, high):
    """A guideline_contrasts frame with every tested contrast at one interval."""
    return pd.DataFrame(
        [
            {
                "guideline": 1,
                "advice": advice,
                "task": task,
                "evidence": "synthetic",
                "needs": "above",
                "value": (low + high) / 2,
                "low": low,
                "high": high,
                "reason": "",
            }
            for advice, task in sorted(scorecard.TESTED_CONTRASTS)
        ]
    )


def test_claim_estimates_give_one_row_per_claim_and_task_with_the_contrast_and_its_verdict():
    contrasts = contrast_rows(0.1, 0.3).iloc[1:]  # one tested pair missing
    estimates = scorecard.claim_estimates(contrasts)
    expected = sum(len(test.tasks) or 1 for test in scorecard.CLAIM_TESTS.values())
    assert len(estimates) == expected
    for claim, test in scorecard.CLAIM_TESTS.items():
        rows = estimates[estimates["claim"] == claim]
        assert list(rows["task"]) == (list(test.tasks) or [""])
    tested = estimates[estimates["estimate"] != ""]
    assert (tested["low"] == 0.1).all() and (tested["high"] == 0.3).all()
    missing = estimates[(estimates["task"] != "") & (estimates["estimate"] == "")]
    assert len(missing) == 1 and missing["low"].isna().all()
    assert set(estimates["verdict"]) <= set(scorecard.VERDICTS)


def test_the_claims_forest_has_a_line_per_claim_and_task_coloured_by_its_verdict():
    estimates = scorecard.claim_estimates(contrast_rows(0.1, 0.3))
    intervals, crosses, labels = drawn(findings.claims_forest(estimates))
    assert len(labels) == len(estimates)
    for y, low, high, colour in intervals:
        row = estimates.iloc[round(y)]
        assert (low, high) == (row["low"], row["high"])
        assert colour == scorecard.VERDICT_COLOURS[row["verdict"]]
    colour_of = {tuple(estimates.loc[round(y), ["claim", "task"]]): colour for y, *_, colour in intervals}
    # A claimed rise agrees with an interval above 0; a claim of no change (5) disagrees with it.
    assert colour_of[1, "math_reasoning"] == style.HOLDS
    assert colour_of[5, "math_reasoning"] == style.FAILS
    untestable = [claim for claim, test in scorecard.CLAIM_TESTS.items() if test.advice is None]
    assert sorted(round(y) for y, _ in crosses) == list(estimates.index[estimates["claim"].isin(untestable)])
    assert all(colour == style.OPEN for _, colour in crosses)
