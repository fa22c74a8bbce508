"""Building the book: which study's results the chapters read, how chapters show tables, and
re-execution when results change. The module is also a Sphinx extension (``extra_extensions`` in
``_config.yml``) that keeps the rendered pages free of console errors.

Jupyter Book caches a chapter's execution by its code alone, and Sphinx re-reads only pages whose
source changed, so a chapter whose results file changed — or whose cltbook functions changed —
would show stale numbers. `build` keeps a stamp of the results and of the package code it rendered
with and, when the stamp changes, clears the execution cache and rebuilds every page.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import yaml
from pandas.io.formats.style import Styler
from statsmodels.iolib.summary2 import Summary

from cltbook.config import RunConfig, WorldConfig, load_study
from cltbook.pipeline.store import read_record
from cltbook.sweep.runner import EXECUTED, project_root

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
    """One table of a study's results folder (cltbook.pipeline.store.RESULT_TABLES); a clear error when
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


def study_world(study: str | None = None) -> WorldConfig:
    """The world of a study's first run (``studies/<study>.yaml``): its items, as the runs saw them."""
    root = project_root()
    return load_study(root / "studies" / f"{study or study_name(root)}.yaml").expand()[0].world


def load_results(study: str | None = None) -> pd.DataFrame:
    """The tidy metrics table most chapters read."""
    return load_table("metrics", study)


# --------------------------------------------------------------------------------------------
# Anatomy of a run: one run's executed notebook, shown as papermill wrote it
# --------------------------------------------------------------------------------------------

# Written by `cltbook book` before each build (never committed): the executed notebook of the run
# the anatomy chapter opens up, rendered with its stored outputs (the book does not execute it).
ANATOMY_NOTEBOOK = Path("book") / "anatomy_run.ipynb"


def anatomy_run(study: str | None = None, root: Path | None = None) -> tuple[RunConfig, Path] | None:
    """The run the anatomy chapter opens: single-task math with 100 examples per seen language and
    seed 0 where the study has it, else its first fine-tuned single-task run, else its first run;
    only a run whose record says ok counts. Its config and run folder (under runs/), or None."""
    root = root or project_root()
    study = study or study_name(root)
    configs = load_study(root / "studies" / f"{study}.yaml").expand()

    def preference(config: RunConfig) -> tuple:
        fine_tuned = config.mixture.design != "none" and len(config.tasks) == 1
        math_100 = config.tasks == ("math_reasoning",) and config.n_per_language == 100 and config.seed == 0
        return (not math_100, not fine_tuned)

    for config in sorted(configs, key=preference):
        folder = root / "runs" / study / config.run_id
        record = read_record(folder)
        if record is not None and record.get("status") == "ok" and (folder / EXECUTED).is_file():
            return config, folder
    return None


def prepare_anatomy(study: str, root: Path) -> Path:
    """Copy the anatomy run's executed notebook into the book, or a notebook that says how to make
    one when the study has no finished run."""
    target = root / ANATOMY_NOTEBOOK
    found = anatomy_run(study, root)
    if found is not None:
        shutil.copyfile(found[1] / EXECUTED, target)
        return target
    notebook = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": [
                    "# The run notebook, executed\n\n",
                    f"No run of the study `{study}` has finished yet, so there is no executed notebook to show: "
                    f"run `cltbook run studies/{study}.yaml` (or `make book`) and build the book again.",
                ],
            }
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return target


TABLE_NAME = re.compile(r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*")  # metric names such as rougeL_char


Table = pd.DataFrame | pd.Series | Styler | Summary


def table_csv(table: Table) -> str:
    """The CSV a reader downloads for a table: the values shown (a Styler's underlying data, at full
    precision; the cells of a statsmodels summary), with the index when it labels rows and without
    a plain 0..n-1 row number."""
    frame = table.data if isinstance(table, Styler) else table.tables[0] if isinstance(table, Summary) else table
    frame = frame.to_frame() if isinstance(frame, pd.Series) else frame
    return frame.to_csv(index=not isinstance(frame.index, pd.RangeIndex))


def csv_link(table: Table, name: str) -> str:
    """An HTML link that downloads ``table`` as ``<name>.csv``. The file travels inside the link (a
    data URL), so it exists wherever the page is: in the built HTML, in the execution cache and in
    a notebook opened elsewhere."""
    if not TABLE_NAME.fullmatch(name):
        raise ValueError(f"table name {name!r}: use letters, digits, '-' and '_'")
    href = "data:text/csv;charset=utf-8," + quote(table_csv(table), safe="")
    return f'<p class="cltbook-csv"><a download="{escape(name)}.csv" href="{href}">Download {escape(name)}.csv</a></p>'


def show_table(table: Table, name: str) -> None:
    """Display a chapter's table followed by a link that downloads it as ``<name>.csv``."""
    from IPython.display import HTML, display

    display(table.to_frame() if isinstance(table, pd.Series) else table)
    display(HTML(csv_link(table, name)))


def _stamp(study: str, root: Path) -> str:
    folder = results_dir(study, root)
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        digest.update(path.name.encode() + path.read_bytes())
    code = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        code.update(str(path.relative_to(package)).encode() + path.read_bytes())
    # Measurements the bench scripts write (benchmarks, the ablation, the world at GPU scale, the
    # lab's times) and the lab exercises' results (results/lab-*/), which the lab page reads
    # whatever study the book shows
    measured = hashlib.sha256()
    lab_results = (root / "results").glob("lab-*/*.parquet")
    for path in sorted([*(root / "bench").glob("*.json"), *(root / "book" / "data").glob("*"), *lab_results]):
        if path.is_file():
            measured.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return json.dumps(
        {
            "study": study,
            "results": digest.hexdigest() if folder.is_dir() else "missing",
            "package": code.hexdigest(),
            "measurements": measured.hexdigest(),
        }
    )


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
    prepare_anatomy(study, root)
    code = subprocess.run(command, env=env, cwd=root).returncode
    if code == 0:
        build_dir.mkdir(exist_ok=True)
        stamp_file.write_text(stamp)
    else:
        # Sphinx has stored the failed pages as read: without --all the next build would find
        # nothing out of date and succeed with the broken pages in place.
        stamp_file.unlink(missing_ok=True)
    return code


def _drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep one copy of each script. sphinx-thebe declares ``const THEBE_JS_URL`` in an inline
    script that reaches the page twice (Sphinx removes repeated script files, not repeated inline
    scripts), and the second declaration throws a SyntaxError in every page."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = (
            str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _default_colour_mode(app, config) -> None:
    """The theme reads the reader's colour mode from local storage and logs a console error on a
    first visit, when there is none, unless a default mode is configured."""
    config.html_context.setdefault("default_mode", "auto")


# Assets the book serves itself (MathJax), so that pages render offline.
ASSETS = Path("book") / "_assets"


def _offline_assets(app, config) -> None:
    """Serve book/_assets from the build's _static folder (Jupyter Book keeps html_static_path
    out of the configuration it generates)."""
    assets = Path(app.confdir) / ASSETS
    if assets.is_dir():
        config.html_static_path.append(str(assets))


def setup(app) -> dict:
    app.connect("config-inited", _default_colour_mode)
    app.connect("config-inited", _offline_assets)
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
