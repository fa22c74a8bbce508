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


def all_html_tables(page):
    """Every table of a page (pandas and Styler tables): header cells and body rows."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    tables = []
    for table in soup.find_all("table"):
        head = table.find("thead")
        header_rows = [[th.get_text(strip=True) for th in tr.find_all("th")] for tr in head.find_all("tr")] if head else [[]]
        header = max(header_rows, key=lambda cells: sum(bool(c) for c in cells))
        rows = [[cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])]
                for tr in (table.find("tbody") or table).find_all("tr")]
        tables.append((header, rows))
    return tables


@pytest.fixture(scope="module")
def built_book(smoke_runs, tmp_path_factory):
    """The book built once from the smoke study's collected results."""
    import shutil

    from conftest import ROOT

    runs, _, _ = smoke_runs
    project = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, project / name)
    for folder in ("book", "notebooks", "studies"):
        shutil.copytree(ROOT / folder, project / folder)
    collect_study(SMOKE_STUDY, runs_root=runs, out=project / "results" / "smoke")
    assert build(study="smoke", root=project) == 0
    return project, runs


def test_the_transfer_chapter_renders_the_recomputed_table(built_book):
    project, runs = built_book
    page = project / "_build" / "html" / "book" / "transfer.html"
    assert "<img" in page.read_text(encoding="utf-8")  # the figure
    header, rows = html_tables(page)[0]  # math reasoning, its headline metric
    assert [row[0] for row in rows] == ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]
    assert all(cell != "" and cell.lower() != "nan" for row in rows for cell in row)

    # every cell equals the mean over seeds recomputed from the runs' own metrics files
    metrics = pd.concat(pd.read_parquet(p / METRICS) for p in (runs / "smoke").iterdir())
    chosen = metrics[(metrics["metric"] == "accuracy_strict_switch_aware") & (metrics["task"] == "math_reasoning")
                     & (metrics["setting"] == "single") & (metrics["mixture_design"] == "augmentation")]
    expected = chosen.groupby(["language", "n_per_language"])["value"].mean()
    ns = [int(n) for n in header[1:]]
    assert ns == sorted(chosen["n_per_language"].unique())
    for row in rows:
        for n, cell in zip(ns, row[1:]):
            assert float(cell) == pytest.approx(round(expected[(row[0], n)], 3), abs=1e-9)


def test_the_world_chapter_shows_the_card_and_calibration_recomputed_from_the_runs(built_book):
    project, runs = built_book
    page = project / "_build" / "html" / "book" / "world.html"
    text = page.read_text(encoding="utf-8")
    assert text.count("<img") >= 2  # overlap heatmap, loss figure
    tables = all_html_tables(page)
    run_dirs = [p for p in (runs / "smoke").iterdir()]
    # the corpus table: token counts per language, as the runs' world card files hold them
    corpus = pd.read_parquet(run_dirs[0] / "card_corpus.parquet").set_index("language")
    (corpus_table,) = [rows for header, rows in tables if "token_share" in header]
    for row in corpus_table:
        assert int(row[2].replace(",", "")) == corpus.loc[row[0], "tokens"]
    # the English-after-English-only estimate: the mean of the per-item scores of the n = 0 run
    (transfer_table,) = [(h, rows) for h, rows in tables if "verdict" in h and "ci_low" in h]
    header, rows = transfer_table
    english = [r for r in rows if r[header.index("check")] == "english_in_range"]
    assert english
    for row in english:
        task = row[header.index("task")]
        n0 = [p for p in run_dirs if _is_english_only(p, task)]
        predictions = pd.concat(pd.read_parquet(p / "predictions.parquet") for p in n0)
        from cltbook.calibration import headline

        values = predictions[(predictions["task"] == task) & (predictions["language"] == "en")][headline(task)]
        assert float(row[header.index("estimate")]) == pytest.approx(values.mean(), abs=5e-4)


def _is_english_only(run_dir, task):
    import json

    config = json.loads((run_dir / "record.json").read_text())["config"]
    return (config["tasks"] == [task] and config["mixture"]["design"] == "augmentation"
            and config["mixture"]["n_per_language"] == 0)


def test_a_chapter_re_executes_when_its_results_change(smoke_runs, project_copy):
    """Jupyter Book caches by code; the build must notice new results all the same."""
    runs, _, _ = smoke_runs
    results = project_copy / "results" / "smoke" / "metrics.parquet"
    collect_study(SMOKE_STUDY, runs_root=runs, out=results.parent)
    assert build(study="smoke", root=project_copy) == 0
    page = project_copy / "_build" / "html" / "book" / "transfer.html"
    header, _ = html_tables(page)[0]
    assert header[1:] == ["0", "20"]

    frame = pd.read_parquet(results)
    frame[(frame["n_per_language"] == 0)].to_parquet(results, index=False)  # as if one run were gone
    assert build(study="smoke", root=project_copy) == 0
    header, _ = html_tables(page)[0]
    assert header[1:] == ["0"]
