"""The rendered book: chapters build with warnings as errors from a study's results (slow tier)."""

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cltbook.book import build
from cltbook.store import METRICS
from cltbook.study import collect_study

from conftest import SMOKE_STUDY

pytestmark = pytest.mark.slow


def html_tables(page):
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    tables = []
    for table in soup.find_all("table", class_="dataframe"):
        header = [th.get_text(strip=True) for th in table.find("thead").find_all("tr")[0].find_all("th")]
        rows = [
            [cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])]
            for tr in table.find("tbody").find_all("tr")
        ]
        tables.append((header, rows))
    return tables


def test_the_math_chapter_renders_the_recomputed_table(smoke_runs, project_copy):
    runs, _, _ = smoke_runs
    collect_study(SMOKE_STUDY, runs_root=runs, out=project_copy / "results" / "smoke")
    assert build(study="smoke", root=project_copy) == 0

    page = project_copy / "_build" / "html" / "book" / "math_transfer.html"
    assert page.is_file()
    assert "<img" in page.read_text(encoding="utf-8")  # the figure
    header, rows = html_tables(page)[0]
    assert [row[0] for row in rows] == ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]
    assert all(cell != "" and cell.lower() != "nan" for row in rows for cell in row)

    # every cell equals the mean over seeds recomputed from the runs' own metrics files
    metrics = pd.concat(pd.read_parquet(p / METRICS) for p in (runs / "smoke").iterdir())
    strict = metrics[(metrics["metric"] == "accuracy_strict") & (metrics["task"] == "math_reasoning")
                     & (metrics["setting"] == "single") & (metrics["mixture_design"] == "augmentation")]
    expected = strict.groupby(["language", "n_per_language"])["value"].mean()
    ns = [int(n) for n in header[1:]]
    assert ns == sorted(strict["n_per_language"].unique())
    for row in rows:
        for n, cell in zip(ns, row[1:]):
            assert float(cell) == pytest.approx(round(expected[(row[0], n)], 3), abs=1e-9)


def test_a_chapter_re_executes_when_its_results_change(smoke_runs, project_copy):
    """Jupyter Book caches by code; the build must notice new results all the same."""
    runs, _, _ = smoke_runs
    results = project_copy / "results" / "smoke" / "metrics.parquet"
    collect_study(SMOKE_STUDY, runs_root=runs, out=results.parent)
    assert build(study="smoke", root=project_copy) == 0
    page = project_copy / "_build" / "html" / "book" / "math_transfer.html"
    header, _ = html_tables(page)[0]
    assert header[1:] == ["0", "20"]

    frame = pd.read_parquet(results)
    frame[(frame["n_per_language"] == 0)].to_parquet(results, index=False)  # as if one run were gone
    assert build(study="smoke", root=project_copy) == 0
    header, _ = html_tables(page)[0]
    assert header[1:] == ["0"]
