"""Building the book: which study's results the chapters read, and re-execution when they change.

Jupyter Book caches a chapter's execution by its code alone, and Sphinx re-reads only pages whose
source changed, so a chapter whose results file changed would show stale numbers. `build` keeps a
stamp of the results it rendered and, when the stamp changes, clears the execution cache and
rebuilds every page.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from cltbook.study import project_root

STUDY_VARIABLE = "CLTBOOK_STUDY"  # set by `cltbook book --study` for one build only


def configured_study(root: Path | None = None) -> str:
    """The study named in _config.yml (section `cltbook: study:`)."""
    root = root or project_root()
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["cltbook"]["study"]


def study_name(root: Path | None = None) -> str:
    return os.environ.get(STUDY_VARIABLE) or configured_study(root)


def results_dir(study: str, root: Path | None = None) -> Path:
    return (root or project_root()) / "results" / study


def load_table(name: str, study: str | None = None) -> pd.DataFrame:
    """One table of a study's results folder (cltbook.store.RESULT_TABLES); a clear error when
    the study has not been run and collected."""
    root = project_root()
    study = study or study_name(root)
    path = results_dir(study, root) / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: run `cltbook run studies/{study}.yaml` and "
            f"`cltbook collect studies/{study}.yaml` first (or `make book`)"
        )
    return pd.read_parquet(path)


def load_results(study: str | None = None) -> pd.DataFrame:
    """The tidy metrics table most chapters read."""
    return load_table("metrics", study)


def _stamp(study: str, root: Path) -> str:
    folder = results_dir(study, root)
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        digest.update(path.name.encode() + path.read_bytes())
    return json.dumps({"study": study, "results": digest.hexdigest() if folder.is_dir() else "missing"})


def build(study: str | None = None, strict: bool = True, root: Path | None = None) -> int:
    """Render the book into _build/html, re-executing chapters when their results changed."""
    root = root or project_root()
    study = study or configured_study(root)
    build_dir = root / "_build"
    stamp_file = build_dir / ".cltbook-results-stamp"
    stamp = _stamp(study, root)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root)]
    if not stamp_file.is_file() or stamp_file.read_text() != stamp:
        # Both caches must go: Sphinx would not re-read an unchanged page, and the execution
        # cache would hand back the old outputs if it did.
        shutil.rmtree(build_dir / ".jupyter_cache", ignore_errors=True)
        command.append("--all")
    if strict:
        command += ["-W", "-n", "--keep-going"]
    env = {**os.environ, STUDY_VARIABLE: study}
    code = subprocess.run(command, env=env, cwd=root).returncode
    if code == 0:
        build_dir.mkdir(exist_ok=True)
        stamp_file.write_text(stamp)
    return code
