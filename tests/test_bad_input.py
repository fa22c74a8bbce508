"""The bad-input catalogue (cltbook.sweep.badinput): every case is refused with the documented exit
code and a message naming the field and the value, before any work: runs/, results/ and the cache
stay byte for byte as they were, and no run folder appears."""

import hashlib
import subprocess
import sys

import pytest
from conftest import ROOT

from cltbook import cli
from cltbook.config import load_study
from cltbook.sweep.badinput import CASES, OUTPUT, prepare
from cltbook.sweep.preflight import preflight

KINDS = {"study file", "notebook", "notebook parameter", "model folder", "data file", "command line"}


def snapshot(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {str(p.relative_to(folder)) + "/": "" for p in folder.rglob("*") if p.is_dir()}


def run_case(case, project, args, capsys, monkeypatch):
    if case.program == "papermill":
        done = subprocess.run([sys.executable, "-m", "papermill", *args], cwd=project, capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr
    monkeypatch.chdir(project)
    try:
        code = cli.main(args)
    except SystemExit as exit:  # argparse refuses a bad option value
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_catalogue_is_broad_and_its_cases_are_distinct():
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.kind for c in CASES} == KINDS


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.program == "papermill" else []) for c in CASES]
)
def test_bad_input_is_refused_naming_field_and_value_before_any_work(case, tmp_path, capsys, monkeypatch):
    project = tmp_path / "project"
    args = prepare(case, project, ROOT)
    watched = {name: snapshot(project / name) for name in ("runs", "results", ".cache")}
    code, output = run_case(case, project, args, capsys, monkeypatch)
    assert code == case.exit_code, output
    assert case.field in output and case.value in output, output
    for name, before in watched.items():
        assert snapshot(project / name) == before, f"{name}/ changed"
    assert not (project / "hacked").exists()
    if case.program == "papermill":  # the executed notebook holds the refusal, not a record
        assert (project / OUTPUT).is_file()


def test_a_good_micro_study_and_real_data_pass_the_same_checks(tmp_path):
    """The checks refuse the cases above, not everything: the unbroken inputs pass."""
    from cltbook.sweep.badinput import GOOD_MODEL, BadInput, model_folder, real_data, study

    for name, write in (("world", study()), ("real", real_data()), ("model", model_folder(**GOOD_MODEL))):
        project = tmp_path / name
        prepare(BadInput(name, "study file", "", "", "", write), project, ROOT)
        configs = load_study(project / "studies" / "case.yaml").expand()
        preflight(configs, project)
