"""The study loop through real papermill executions of the run notebook (slow tier)."""

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, SMOKE_STUDY

from cltbook import cli as command_line
from cltbook.config import load_study
from cltbook.pipeline.store import METRICS, PREDICTIONS, RECORD, RESULT_TABLES, TIDY_COLUMNS, read_record
from cltbook.sweep.runner import execute_run
from cltbook.sweep.study import collect_study, run_study

pytestmark = pytest.mark.slow


def snapshot(folder):
    """Content hash and modification time of every file below `folder`."""
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_every_run_writes_its_files_and_a_valid_record(smoke_runs):
    runs, _, outcome = smoke_runs
    configs = load_study(SMOKE_STUDY).expand()
    assert sorted(outcome["ok"]) == sorted(c.run_id for c in configs)
    for config in configs:
        run_dir = runs / "smoke" / config.run_id
        record = json.loads((run_dir / RECORD).read_text())
        assert record["status"] == "ok" and record["run_id"] == config.run_id
        assert record["config"] == config.to_dict()
        if config.mixture.design == "none":  # the base model, evaluated as it is
            assert set(record["timings"]) == {"pretrain", "card", "data", "evaluate"}
            assert record["training"] is None
        else:
            assert set(record["timings"]) == {"pretrain", "card", "data", "train", "evaluate"}
            assert record["training"]["steps"] == config.training.max_steps
        assert record["provenance"]["threads"] >= 1
        metrics = pd.read_parquet(run_dir / METRICS)
        assert list(metrics.columns) == list(TIDY_COLUMNS)
        assert set(metrics["language"]) == set(config.evaluation_languages)
        assert metrics["value"].between(0, 1).all()
        roles = metrics.drop_duplicates("language").set_index("language")["role"]
        assert roles["en"] == "anchor" and roles["es"] == "seen" and roles["ko"] == "unseen"
        predictions = pd.read_parquet(run_dir / PREDICTIONS)
        assert len(predictions) == len(config.tasks) * 8 * config.evaluation.items_per_language
        assert set(predictions["task"]) == set(config.tasks)
        assert {"output", "target", "gold", "extracted_strict", "extracted_flexible"} <= set(predictions.columns)
        # every recorded metric is the mean of its per-item values
        for (task, language, metric), value in metrics.set_index(["task", "language", "metric"])["value"].items():
            items = predictions[(predictions["task"] == task) & (predictions["language"] == language)]
            assert value == pytest.approx(items[metric].astype(float).mean())
        assert (run_dir / "executed.ipynb").is_file() and (run_dir / "parameters.yaml").is_file()
        assert not (run_dir / "config.yaml").exists()  # the config is written once before the record


def test_a_second_run_executes_nothing_and_a_deleted_record_reruns_exactly_that_run(smoke_runs):
    runs, cache, _ = smoke_runs
    before = snapshot(runs)
    again = run_study(SMOKE_STUDY, runs_root=runs, cache_dir=cache, echo=lambda *_: None, root=ROOT)
    assert again["ok"] == [] and again["failed"] == []
    assert snapshot(runs) == before

    victim, *others = sorted(p for p in (runs / "smoke").iterdir())
    others_before = {p.name: snapshot(p) for p in others}
    (victim / RECORD).unlink()
    rerun = run_study(SMOKE_STUDY, runs_root=runs, cache_dir=cache, echo=lambda *_: None, root=ROOT)
    assert rerun["ok"] == [victim.name]
    assert {p.name: snapshot(p) for p in others} == others_before
    assert json.loads((victim / RECORD).read_text())["status"] == "ok"


def test_collect_gathers_every_run(smoke_runs, tmp_path):
    runs, _, _ = smoke_runs
    out = collect_study(SMOKE_STUDY, runs_root=runs, out=tmp_path / "smoke")
    assert sorted(p.stem for p in out.iterdir()) == sorted(RESULT_TABLES)
    results = pd.read_parquet(out / "metrics.parquet")
    run_dirs = sorted((runs / "smoke").iterdir())
    expected = pd.concat(pd.read_parquet(p / METRICS) for p in run_dirs)
    assert len(results) == len(expected) and results["run_id"].nunique() == len(run_dirs)
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert len(predictions) == sum(len(pd.read_parquet(p / PREDICTIONS)) for p in run_dirs)
    # the per-item values average to the collected metrics
    means = predictions.groupby(["run_id", "task", "language"])["accuracy_strict"].mean().dropna()
    strict = results[results["metric"] == "accuracy_strict"].set_index(["run_id", "task", "language"])["value"]
    assert means.sort_index().to_numpy() == pytest.approx(strict.loc[means.index].sort_index().to_numpy())
    # one world card per base model, although every run carries it
    card = pd.read_parquet(out / "card_loss.parquet")
    assert card.groupby(["base_model", "language", "predictor"]).size().max() == 1


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(smoke_runs, tmp_path):
    _, cache, _ = smoke_runs
    config = load_study(SMOKE_STUDY).expand()[0]
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    record = execute_run(config, tmp_path / "runs" / config.run_id, ROOT, not_a_folder, threads=1)
    assert record["status"] == "failed"
    assert "cache-is-a-file" in record["traceback"]
    assert (tmp_path / "runs" / config.run_id / "executed.ipynb").is_file()


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cltbook.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_dry_run_and_status_list_what_would_run(smoke_runs):
    runs, _, _ = smoke_runs
    dry = cli("run", str(SMOKE_STUDY), "--runs-dir", str(runs), "--dry-run", cwd=ROOT)
    assert dry.returncode == 0 and "0 to run, 4 to skip" in dry.stdout
    status = cli("status", str(SMOKE_STUDY), "--runs-dir", str(runs), cwd=ROOT)
    assert "4 done, 0 failed, 0 pending" in status.stdout


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: broken\ngrid:\n  mixture.n_per_language: [10, -5]\n", "mixture.n_per_language: must be >= 0, got -5"),
        ("name: broken\nbase:\n  seen_languages: [es, xx]\n", "seen_languages[1]"),
        ("name: broken\nbase:\n  mixtur: {}\n", "mixtur: unknown key; did you mean 'mixture'?"),
        ("name: broken\nbase:\n  seen_languages: [es]\n  unseen_languages: [es]\n", "unseen_languages"),
        ("name: broken\nbase:\n  anchor_language: es\n", "seen_languages: contains the anchor language 'es'"),
    ],
)
def test_a_bad_study_fails_before_any_work_and_changes_nothing(tmp_path, text, fragment):
    study = tmp_path / "broken.yaml"
    study.write_text(text)
    runs, results = tmp_path / "runs", tmp_path / "results"
    runs.mkdir()
    results.mkdir()
    (results / "keep.parquet").write_bytes(b"previous results")
    before = snapshot(tmp_path)
    for command in ("run", "collect"):
        done = cli(command, str(study), "--runs-dir", str(runs), cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert fragment in done.stderr
    assert snapshot(tmp_path) == before


def test_verify_passes_on_the_runs_and_names_an_edited_prediction_or_metric(smoke_runs, tmp_path):
    import shutil

    from cltbook.sweep.verify import verify_study

    runs, _, _ = smoke_runs
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    assert verify_study(SMOKE_STUDY, runs_root=copy, echo=lambda *_: None) == []
    first, second = sorted(p for p in (copy / "smoke").iterdir())[:2]
    predictions = pd.read_parquet(first / PREDICTIONS)
    # a wrong math answer replaced by the gold worked solution: its saved scores no longer hold
    wrong = predictions[(predictions["task"] == "math_reasoning") & (predictions["accuracy_strict"] == 0)].index[0]
    predictions.loc[wrong, "output"] = predictions.loc[wrong, "target"]
    predictions.to_parquet(first / PREDICTIONS, index=False)
    metrics = pd.read_parquet(second / METRICS)
    metrics.loc[3, "value"] = metrics.loc[3, "value"] + 0.25
    metrics.to_parquet(second / METRICS, index=False)
    problems = verify_study(SMOKE_STUDY, runs_root=copy, echo=lambda *_: None)
    assert any(p.startswith(first.name) for p in problems)
    assert any(p.startswith(second.name) and "metrics.parquet" in p for p in problems)
    done = cli("verify", str(SMOKE_STUDY), "--runs-dir", str(copy), cwd=ROOT)
    assert done.returncode == 1 and second.name in done.stderr


# --------------------------------------------------------------------------------------------
# cltbook once: one run from key=value overrides
# --------------------------------------------------------------------------------------------

MICRO_OVERRIDES = [
    "world.corpus_documents=300",
    "world.vocab_size=300",
    "base_model.size=micro",
    "base_model.pretrain_steps=2",
    "base_model.pretrain_batch_size=2",
    "mixture.anchor_examples=4",
    "mixture.n_per_language=2",
    "training.max_steps=2",
    "training.eval_every=1",
    "training.validation_per_language=2",
    "evaluation.items_per_language=2",
    "evaluation.max_new_tokens=4",
    "seen_languages=[es, fr]",
    "training.learning_rate=1e-4",
]


def test_once_validates_overrides_as_a_study_file_and_shows_it(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    code = command_line.main(["once", "--dry-run", "--runs-dir", str(tmp_path / "runs"), *MICRO_OVERRIDES])
    out = capsys.readouterr().out
    assert code == 0 and "  seen_languages: [es, fr]\n" in out and "learning_rate: 1e-4" in out
    assert "1 to run" in out and not (tmp_path / "runs").exists()
    for bad, named in (("training.learnig_rate=1e-4", "training.learnig_rate"), ("seed=.inf", "seed")):
        assert command_line.main(["once", "--dry-run", "--runs-dir", str(tmp_path / "runs"), bad]) == 2
        assert capsys.readouterr().err.startswith(f"error: {named}: ")


@pytest.mark.slow
def test_once_executes_one_micro_run_without_a_study_file(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    runs = tmp_path / "runs"
    args = ["once", "--name", "quick", "--runs-dir", str(runs), "--cache-dir", str(tmp_path / "cache")]
    assert command_line.main([*args, *MICRO_OVERRIDES]) == 0
    [folder] = (runs / "quick").iterdir()
    assert f"run folder: {folder}" in capsys.readouterr().out
    record = read_record(folder)
    assert record["status"] == "ok" and record["config"]["training"]["learning_rate"] == 1e-4
    assert record["config"]["seen_languages"] == ["es", "fr"]
