"""The lab (book/lab.md, cltbook.report.lab): every exercise's study validates as `cltbook run
--dry-run` validates it and holds the runs its answer compares; the smallest exercise runs end to
end on the micro model and its answer is computed from the collected results."""

import contextlib
import io
import os

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from cltbook import cli
from cltbook.config import _merged, base_model_key, load_study
from cltbook.report import lab
from cltbook.report.calibration import language_blind
from cltbook.sweep.badinput import MICRO
from cltbook.sweep.study import collect_study, run_study

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILES = sorted((ROOT / lab.LAB).glob("*.yaml"))


def new_base_models(name: str) -> int:
    """How many base models an exercise pretrains beyond the default study's (cached by `make book`)."""
    default = {base_model_key(c.world, c.base_model) for c in load_study(ROOT / "studies" / "default.yaml").expand()}
    keys = {base_model_key(c.world, c.base_model) for c in load_study(lab.study_file(name, ROOT)).expand()}
    return len(keys - default)


def cost(name: str) -> tuple[int, int]:
    """An exercise's size for picking the smallest: base models to pretrain, then task runs."""
    return new_base_models(name), sum(len(c.tasks) for c in load_study(lab.study_file(name, ROOT)).expand())


SMALLEST = min(lab.EXERCISES, key=cost)


def test_the_lab_has_one_study_file_per_exercise():
    assert [path.stem for path in FILES] == sorted(lab.EXERCISES)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_a_lab_study_passes_the_dry_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["run", str(path), "--dry-run", "--runs-dir", str(tmp_path / "runs")])
    assert code == 0, out.getvalue()
    assert not (tmp_path / "runs").exists()
    assert f"{len(load_study(path).expand())} to run" in out.getvalue()


@pytest.mark.parametrize("name", list(lab.EXERCISES))
def test_a_lab_study_holds_the_runs_its_answer_compares(name):
    study = load_study(lab.study_file(name, ROOT))
    assert study.name == f"lab-{name}" and study.description
    arms = lab.arms(study)
    exercise = lab.EXERCISES[name]
    assert set(arms) == exercise.arms
    assert len({config.run_id for config in arms.values()}) == len(arms)
    for arm, minus in exercise.comparisons:
        assert set(arms[arm].tasks) & set(arms[minus].tasks), (arm, minus)
    for config in arms.values():  # every arm answers every language the answer reports
        assert {code for _, languages in exercise.groups for code in languages} <= set(config.evaluation_languages)
    # a few runs, within the 2-core budget the page promises
    assert 2 <= len(arms) <= 4 and sum(len(c.tasks) for c in arms.values()) <= 6


def test_only_the_no_anchors_exercise_pretrains_and_then_one_tiny_model():
    assert {name: new_base_models(name) for name in lab.EXERCISES if new_base_models(name)} == {"no-anchors": 1}
    sizes = {c.base_model.size for c in load_study(lab.study_file("no-anchors", ROOT)).expand()}
    assert sizes == {"tiny"}


def test_the_page_says_how_to_measure_before_a_measurement_and_shows_it_after(tmp_path):
    assert "not measured yet: run `python bench/lab.py`" in lab.time_text(SMALLEST, tmp_path)
    (tmp_path / lab.TIMES).parent.mkdir(parents=True)
    row = {"exercise": SMALLEST, "runs": 2, "workers": 2, "cores": 2, "seconds": 150.0}
    pd.DataFrame([{**row, "base_models_cached": True, "date": "2026-01-02"}]).to_csv(tmp_path / lab.TIMES, index=False)
    text = lab.time_text(SMALLEST, tmp_path)
    assert "2.5 min" in text and "2 runs" in text and "cached" in text
    for path in FILES:  # overview reads the questions from the study files under the root
        (tmp_path / lab.LAB).mkdir(parents=True, exist_ok=True)
        (tmp_path / lab.LAB / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    table = lab.overview(tmp_path).set_index("exercise")
    assert table.loc[SMALLEST, "measured minutes"] == "2.5"
    assert (table.drop(SMALLEST)["measured minutes"] == "not measured yet").all()


@pytest.mark.slow
def test_the_smallest_exercise_runs_on_the_micro_model_and_its_answer_is_computed(tmp_path):
    # The exercise's own study file, shrunk to the micro model: its blocks (the arms) unchanged.
    data = yaml.safe_load(lab.study_file(SMALLEST, ROOT).read_text(encoding="utf-8"))
    data["base"] = _merged(data["base"], MICRO)
    study = tmp_path / lab.LAB / f"{SMALLEST}.yaml"
    study.parent.mkdir(parents=True)
    study.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    expected = lab.arms(load_study(study))
    assert set(expected) == lab.EXERCISES[SMALLEST].arms

    # before any run, the page shows the commands that make the runs
    assert f"cltbook run studies/lab/{SMALLEST}.yaml --workers 2" in lab.pending_text(SMALLEST, tmp_path)

    runs = tmp_path / "runs"
    outcome = run_study(
        study, runs_root=runs, cache_dir=tmp_path / "cache", echo=lambda *_: None, root=ROOT, workers=lab.WORKERS
    )
    assert not outcome["failed"] and len(outcome["ok"]) == len(expected)
    collect_study(study, runs_root=runs, out=tmp_path / "results" / data["name"])
    assert lab.missing_arms(SMALLEST, tmp_path) == []

    table = lab.estimates(SMALLEST, tmp_path, n_boot=200)
    exercise = lab.EXERCISES[SMALLEST]
    scores, differences = table[table["kind"] == "score"], table[table["kind"] == "difference"]
    assert len(scores) == len(expected) * len(exercise.groups)
    assert len(differences) == len(exercise.comparisons) * len(exercise.groups)
    assert scores["value"].between(0, 1).all() and differences["value"].between(-1, 1).all()
    assert ((table["low"] <= table["value"]) & (table["value"] <= table["high"])).all()
    # a difference is the two arms' scores subtracted, on the same items
    arm, minus = exercise.comparisons[0]
    group = exercise.groups[0][0]
    value = scores.set_index(["arm", "group"])["value"]
    [difference] = differences[(differences["arm"] == arm) & (differences["group"] == group)]["value"]
    assert difference == pytest.approx(value[arm, group] - value[minus, group])

    shown_scores, shown_differences = lab.answer_tables(table)
    assert list(shown_scores.columns) == [label for label, _ in exercise.groups]
    assert len(shown_differences) == len(exercise.comparisons)
    # the same answer whatever language the answers are in: the gap is answers in another language
    blind = lab.estimates(SMALLEST, tmp_path, n_boot=200, blind=True)
    assert list(blind["metric"].unique()) == [language_blind(task) for task in blind["task"].unique()]
    assert blind[["kind", "arm", "minus", "task", "group"]].equals(table[["kind", "arm", "minus", "task", "group"]])
    assert lab.pending_text(SMALLEST, tmp_path) is None
    assert "95% interval" in lab.answer_caption(table)
    assert all("95% CI" in cell for cell in shown_scores.to_numpy().ravel())
