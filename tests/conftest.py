"""Shared fixtures. Hub access is switched off for every test: nothing here may download."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
SMOKE_STUDY = ROOT / "studies" / "smoke.yaml"


@pytest.fixture(scope="session")
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """The smoke study executed once for the whole session: (runs root, cache dir, outcome)."""
    from cltbook.study import run_study

    base = tmp_path_factory.mktemp("smoke")
    runs, cache = base / "runs", base / "cache"
    outcome = run_study(SMOKE_STUDY, runs_root=runs, cache_dir=cache, echo=lambda *_: None, root=ROOT)
    assert not outcome["failed"], outcome
    return runs, cache, outcome


@pytest.fixture()
def project_copy(tmp_path) -> Path:
    """The book's sources and the run notebook in a scratch folder, to build or run without
    touching the checkout."""
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("book", "notebooks", "studies"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path
