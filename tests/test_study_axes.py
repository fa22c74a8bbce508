"""The axes chapter's contrasts (scale, multi-task, script, noise floor) on a small synthetic
study, and their forest plot."""

import pandas as pd
import pytest
from test_figures import HEADLINE, ITEMS, close_figures, drawn  # noqa: F401  (close_figures: autouse)

from cltbook.languages import PAPER_SEEN, PAPER_UNSEEN
from cltbook.report import study_axes, style


def synthetic_axes_study():
    """Three runs on the small model at n = 100 (single-task seeds 0 and 1, multi-task) and one
    single-task run on the tiny model. Single-task runs on the small model answer every item; the
    multi-task run misses every seen item; the tiny model answers the odd items only."""
    languages = ("en", *PAPER_SEEN, *PAPER_UNSEEN)
    runs = {
        "single0": ("single", "small", 0),
        "single1": ("single", "small", 1),
        "multi": ("multi", "small", 0),
        "tiny": ("single", "tiny", 0),
    }
    results = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "task": "math_reasoning",
                "setting": setting,
                "mixture_design": "augmentation",
                "seen_languages": "es,fr,ja,zh",
                "model_size": size,
                "n_per_language": 100,
                "seed": seed,
                "training_steps": 150,
                "learning_rate": 3e-4,
                "language": language,
            }
            for run_id, (setting, size, seed) in runs.items()
            for language in languages
        ]
    )

    def score(run_id, language, item):
        if run_id == "tiny":
            return float(item % 2)
        return float(not (run_id == "multi" and language in PAPER_SEEN))

    predictions = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "task": "math_reasoning",
                "language": language,
                "item_id": item,
                HEADLINE: score(run_id, language, item),
            }
            for run_id in runs
            for language in languages
            for item in range(ITEMS)
        ]
    )
    return results, predictions


def test_axis_contrasts_on_a_synthetic_study():
    contrasts = study_axes.axis_contrasts(*synthetic_axes_study(), n_boot=100)
    assert list(contrasts.columns) == list(study_axes.AXIS_COLUMNS)
    assert list(contrasts["axis"].drop_duplicates()) == ["model scale", "multi-task", "noise floor"]  # no script mixes
    value = contrasts.set_index(["axis", "group"])["value"]
    for group in study_axes.ROLE_GROUPS:
        assert value["model scale", group] == pytest.approx(0.5)
        assert value["noise floor", group] == pytest.approx(0)
    assert value["multi-task", "seen"] == pytest.approx(-1)
    assert value["multi-task", "unseen"] == value["multi-task", "anchor"] == pytest.approx(0)
    assert (contrasts["low"] <= contrasts["value"]).all() and (contrasts["value"] <= contrasts["high"]).all()
    scale = contrasts[contrasts["axis"] == "model scale"]
    assert set(scale["contrast"]) == {"small minus tiny model, n = 100"}
    assert 0 < scale["low"].min() and scale["high"].max() < 1


def test_the_axes_forest_has_a_line_per_contrast_a_point_per_group_and_the_groups_colours():
    contrasts = study_axes.axis_contrasts(*synthetic_axes_study(), n_boot=100)
    intervals, crosses, labels = drawn(study_axes.forest(contrasts))
    assert len(labels) == contrasts.groupby(["axis", "task", "contrast"]).ngroups == 3
    assert not crosses
    assert [(low, high, colour) for _, low, high, colour in intervals] == list(
        zip(contrasts["low"], contrasts["high"], contrasts["group"].map(style.GROUP_COLOURS), strict=True)
    )
    legend = [text.get_text() for text in study_axes.forest(contrasts).axes[0].get_legend().get_texts()]
    assert legend == [style.GROUP_LABELS[group] for group in study_axes.ROLE_GROUPS]


def test_the_axes_forest_refuses_an_empty_table_and_an_unknown_group():
    empty = pd.DataFrame(columns=list(study_axes.AXIS_COLUMNS))
    with pytest.raises(ValueError, match="empty"):
        study_axes.forest(empty)
    row = {"axis": "script", "task": "math_reasoning", "contrast": "c", "group": "klingon"}
    with pytest.raises(ValueError, match="klingon"):
        study_axes.forest(pd.DataFrame([{**row, "value": 0.1, "low": 0.0, "high": 0.2}]))
