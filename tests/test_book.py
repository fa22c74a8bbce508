"""The rendered book: chapters build with warnings as errors from a study's results and pass the
browser check (slow tier); table downloads and the browser check itself (fast)."""

import io
import re
import shutil
import struct
import zlib
from urllib.parse import unquote

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from conftest import SMOKE_STUDY

from cltbook.pipeline.store import METRICS, read_record
from cltbook.report.book import _drop_repeated_scripts, anatomy_run, build, csv_link
from cltbook.sweep.study import collect_study
from tools.checkbook import CHROMIUM_CANDIDATES, check_book

slow = pytest.mark.slow
needs_chromium = pytest.mark.skipif(
    not any(shutil.which(name) for name in CHROMIUM_CANDIDATES), reason="no Chromium on PATH"
)


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
        header_rows = (
            [[th.get_text(strip=True) for th in tr.find_all("th")] for tr in head.find_all("tr")] if head else [[]]
        )
        header = max(header_rows, key=lambda cells: sum(bool(c) for c in cells))
        rows = [
            [cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])]
            for tr in (table.find("tbody") or table).find_all("tr")
        ]
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
    shutil.copytree(runs, project / "runs")  # where the anatomy chapter finds its run's folder
    assert build(study="smoke", root=project) == 0
    return project, runs


@slow
def test_no_page_asks_the_web_for_a_script_a_stylesheet_or_mathjax(built_book):
    """Every script and stylesheet comes from the build (MathJax included); checked in the HTML, so
    it holds where no Chromium is installed for `make check-book`."""
    project, _ = built_book
    html = project / "_build" / "html"
    external = []
    for page in html.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
            for element in soup.find_all(tag):
                url = element.get(attribute) or ""
                loaded = tag != "link" or "stylesheet" in element.get("rel", [])
                if loaded and url.startswith(("http://", "https://", "//")):
                    external.append(f"{page.relative_to(html)}: {url}")
    assert external == []
    mathjax = "_static/mathjax/tex-mml-chtml.js"
    math_pages = [p for p in html.rglob("*.html") if mathjax in p.read_text(encoding="utf-8")]
    assert math_pages and (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


@slow
def test_the_landing_page_shows_the_findings_figure_and_the_claims_table(built_book):
    project, _ = built_book
    page = project / "_build" / "html" / "book" / "intro.html"
    assert "<img" in page.read_text(encoding="utf-8")  # the paper beside this study
    [(header, rows)] = [table for table in all_html_tables(page) if "verdict" in table[0]]
    assert {"claim", "paper_evidence", "world_estimate", "verdict", "shown in"} <= set(header)
    verdicts = {row[header.index("verdict")] for row in rows}
    assert rows and verdicts <= {"agree", "disagree", "not identifiable"}


@slow
def test_the_guidelines_chapter_leads_with_a_forest_plot_of_its_estimates(built_book):
    project, _ = built_book
    html = (project / "_build" / "html" / "book" / "guidelines.html").read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    sections = [section.get("id") for section in page.find_all("section")]
    assert sections.index("at-a-glance") < sections.index("add-fine-tuning-data-in-the-languages-you-serve")
    assert page.find("section", id="at-a-glance").find("img") is not None


@slow
def test_the_axes_chapter_leads_with_a_forest_plot_of_its_contrasts(built_book):
    project, _ = built_book
    html = (project / "_build" / "html" / "book" / "axes.html").read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    sections = [section.get("id") for section in page.find_all("section")]
    assert sections.index("at-a-glance") < sections.index("model-scale")
    assert page.find("section", id="at-a-glance").find("img") is not None  # the smoke study has multi-task runs


@slow
def test_the_audit_scorecard_shows_the_claims_as_a_figure_before_the_table(built_book):
    project, _ = built_book
    html = (project / "_build" / "html" / "book" / "published_audit.html").read_text(encoding="utf-8")
    section = BeautifulSoup(html, "html.parser").find("section", id="scorecard")
    figure, table = section.find("img"), section.find("table")
    assert figure is not None and table is not None
    assert table in figure.find_all_next("table")


@slow
def test_the_anatomy_chapter_opens_a_real_executed_run(built_book):
    project, _ = built_book
    config, folder = anatomy_run("smoke", project)
    chapter = (project / "_build" / "html" / "book" / "anatomy.html").read_text(encoding="utf-8")
    assert config.label in chapter and config.run_id in chapter and "<img" in chapter  # the training curve
    notebook = (project / "_build" / "html" / "book" / "anatomy_run.html").read_text(encoding="utf-8")
    # the notebook as papermill executed it in the run folder: its own outputs, not a new execution
    assert f"run {config.run_id} ({config.label})" in notebook
    assert (project / "book" / "anatomy_run.ipynb").read_bytes() == (folder / "executed.ipynb").read_bytes()


def anatomy_commands() -> dict[str, str]:
    """The chapter's three "run it again" commands, as the page shows them."""
    from conftest import ROOT

    text = (ROOT / "book" / "anatomy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n# anatomy: (\w+)\n(.*?)```", text, flags=re.S)
    return dict(blocks)


def test_the_anatomy_chapter_shows_three_ways_to_run_again():
    assert set(anatomy_commands()) == {"papermill", "once", "study"}


@slow
def test_the_anatomy_commands_run_as_written_on_the_micro_model(project_copy):
    import os
    import subprocess
    import sys
    from pathlib import Path

    bin_dir = Path(sys.executable).parent  # papermill and cltbook of this environment
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for name, command in anatomy_commands().items():
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command], cwd=project_copy, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (name, done.stdout[-2000:], done.stderr[-2000:])
    assert (project_copy / "runs" / "by-hand" / "record.json").is_file()  # papermill, run_dir runs/by-hand
    [once] = (project_copy / "runs" / "once").iterdir()
    assert read_record(once)["status"] == "ok"
    assert len(pd.read_parquet(project_copy / "results" / "mine" / "metrics.parquet")["run_id"].unique()) == 2


@slow
def test_the_transfer_chapter_renders_the_recomputed_table(built_book):
    project, runs = built_book
    page = project / "_build" / "html" / "book" / "transfer.html"
    assert "<img" in page.read_text(encoding="utf-8")  # the figure
    header, rows = html_tables(page)[0]  # math reasoning, its headline metric
    assert [row[0] for row in rows] == ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]
    assert all(cell != "" and cell.lower() != "nan" for row in rows for cell in row)

    # every cell equals the mean over seeds recomputed from the runs' own metrics files
    metrics = pd.concat(pd.read_parquet(p / METRICS) for p in (runs / "smoke").iterdir())
    chosen = metrics[
        (metrics["metric"] == "accuracy_strict_switch_aware")
        & (metrics["task"] == "math_reasoning")
        & (metrics["setting"] == "single")
        & (metrics["mixture_design"] == "augmentation")
    ]
    expected = chosen.groupby(["language", "n_per_language"])["value"].mean()
    ns = [int(n) for n in header[1:]]
    assert ns == sorted(chosen["n_per_language"].unique())
    for row in rows:
        for n, cell in zip(ns, row[1:]):
            assert float(cell) == pytest.approx(round(expected[(row[0], n)], 3), abs=1e-9)


@slow
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
    english = [r for r in rows if r[header.index("check")] == "english_elicited"]
    assert english
    for row in english:
        task = row[header.index("task")]
        n0 = [p for p in run_dirs if _is_english_only(p, task)]
        predictions = pd.concat(pd.read_parquet(p / "predictions.parquet") for p in n0)
        from cltbook.report.calibration import headline

        values = predictions[(predictions["task"] == task) & (predictions["language"] == "en")][headline(task)]
        assert float(row[header.index("estimate")]) == pytest.approx(values.mean(), abs=5e-4)


def _is_english_only(run_dir, task):
    import json

    config = json.loads((run_dir / "record.json").read_text())["config"]
    return (
        config["tasks"] == [task]
        and config["mixture"]["design"] == "augmentation"
        and config["mixture"]["n_per_language"] == 0
    )


@slow
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

    # A build that fails must not leave its broken pages behind for the next one: with the same
    # results back, every chapter executes again (Sphinx alone would find nothing out of date).
    good = results.read_bytes()
    pd.read_parquet(results).drop(columns=["value"]).to_parquet(results, index=False)
    assert build(study="smoke", root=project_copy) != 0
    results.write_bytes(good)
    assert build(study="smoke", root=project_copy) == 0
    header, _ = html_tables(page)[0]
    assert header[1:] == ["0"]


def downloaded(link) -> pd.DataFrame:
    """The table a CSV download link carries."""
    prefix = "data:text/csv;charset=utf-8,"
    assert link["href"].startswith(prefix)
    return pd.read_csv(io.StringIO(unquote(link["href"][len(prefix) :])))


def test_a_table_downloads_as_the_csv_of_its_values():
    frame = pd.DataFrame(
        {"accuracy": [0.5, 0.25], "note": ["a, b", "ü"]}, index=pd.Index(["en", "ja"], name="language")
    )
    for table in (frame, frame.style.format("{:.1f}", subset=["accuracy"]), frame["accuracy"]):
        link = BeautifulSoup(csv_link(table, "scores-1"), "html.parser").a
        assert link["download"] == "scores-1.csv"
        expected = (
            frame.reset_index()
            if isinstance(table, pd.DataFrame) or hasattr(table, "data")
            else frame["accuracy"].reset_index()
        )
        pd.testing.assert_frame_equal(downloaded(link), expected)  # full precision, index as a column
    plain = BeautifulSoup(csv_link(frame.reset_index(), "plain"), "html.parser").a
    assert list(downloaded(plain).columns) == ["language", "accuracy", "note"]  # no 0..n-1 column
    metric_named = BeautifulSoup(csv_link(frame, "transfer-summarization-rougeL_char"), "html.parser").a
    assert metric_named["download"] == "transfer-summarization-rougeL_char.csv"  # metric names keep their case
    with pytest.raises(ValueError, match="table name"):
        csv_link(frame, "../escape")


def test_the_book_extension_keeps_one_copy_of_each_inline_script():
    from sphinx.builders.html._assets import _JavaScript

    thebe = 'const THEBE_JS_URL = "x"'
    context = {
        "script_files": [
            _JavaScript("", body=thebe),
            _JavaScript("a.js"),
            _JavaScript(None, body=thebe),
            _JavaScript("", body="let other = 1"),
        ]
    }
    _drop_repeated_scripts(None, "page", "page.html", context, None)
    assert [js.attributes.get("body", js.filename) for js in context["script_files"]] == [
        thebe,
        "a.js",
        "let other = 1",
    ]


def _png(width: int, height: int) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@needs_chromium
def test_the_browser_check_passes_a_sound_page_and_names_every_fault_of_a_broken_one(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "figure.png").write_bytes(_png(8, 8))
    (tmp_path / "index.html").write_text(
        '<html><body><main><h1 id="top">Book</h1><img src="figure.png" width="80">'
        '<a href="sub/page.html#there">a page</a><a href="#top">top</a><a href="https://example.org/">web</a>'
        '<script src="https://cdn.example.org/lib.js"></script></main></body></html>'
    )
    (tmp_path / "sub" / "page.html").write_text(
        '<html><body><main><p id="there">here</p><img src="missing.png">'
        '<img src="../figure.png" style="display:none"><a href="../index.html#nowhere">anchor</a>'
        '<a href="gone.html">gone</a><script>console.error("boom"); notDefined();</script></main></body></html>'
    )
    reports = {r.page: r for r in check_book(tmp_path)}
    sound, broken = reports["index.html"], reports["sub/page.html"]
    assert sound.images == 1 and sound.links == 3
    assert sound.web_resources == ["https://cdn.example.org/lib.js"]  # blocked, and a problem: the book is offline
    assert sound.problems == ["web request (the book must load offline): https://cdn.example.org/lib.js"]
    problems = "\n".join(broken.problems)
    for fault in (
        "console.error: boom",
        "notDefined is not defined",
        "missing.png did not load",
        "figure.png is not visible",
        "no element with id 'nowhere'",
        "gone.html: no such file",
    ):
        assert fault in problems


CHAPTER_PAGES = ("world", "transfer", "axes", "drivers", "guidelines", "published_audit", "benchmarks")


@slow
@needs_chromium
def test_every_page_of_the_rendered_book_passes_the_browser_check(built_book):
    project, _ = built_book
    reports = check_book(project / "_build" / "html")
    assert {f"book/{page}.html" for page in (*CHAPTER_PAGES, "attribution", "execution_times")} <= {
        r.page for r in reports
    }
    assert {r.page: r.problems for r in reports if r.problems} == {}
    images = {r.page: r.images for r in reports}
    assert images["book/world.html"] >= 2 and images["book/transfer.html"] >= 1


@slow
def test_every_chapter_table_is_followed_by_its_csv_download(built_book):
    project, _ = built_book
    shown = 0
    for page in CHAPTER_PAGES:
        article = BeautifulSoup(
            (project / "_build" / "html" / "book" / f"{page}.html").read_text(encoding="utf-8"), "html.parser"
        ).find("article")
        for table in article.select("div.cell_output table"):
            link = table.find_next("a", download=True)
            assert link is not None and link.find_previous("table") is table, f"{page}: a table without its CSV"
            # rows with data cells; header rows hold th cells (and at most an empty corner td)
            body_rows = [tr for tr in table.find_all("tr") if any(td.get_text(strip=True) for td in tr.find_all("td"))]
            assert len(downloaded(link)) == len(body_rows), f"{page}: {link['download']}"
            shown += 1
    assert shown >= 10


@slow
def test_each_guideline_has_an_interval_or_the_reason_it_has_none(built_book):
    project, _ = built_book
    page = project / "_build" / "html" / "book" / "guidelines.html"
    ((header, rows),) = all_html_tables(page)
    estimate, verdict = header.index("estimate (95% CI)"), header.index("verdict")
    assert rows
    for row in rows:
        with_interval = re.fullmatch(r"-?\d+\.\d+ \(95% CI -?\d+\.\d+ to -?\d+\.\d+\)", row[estimate])
        without = re.fullmatch(r"n/a \(.+\)", row[estimate])
        assert with_interval or without, row
        assert (row[verdict] == "no evidence") == bool(without), row
    assert any(re.search("95% CI", row[estimate]) for row in rows)  # the smoke study has n = 0 and 20


@slow
def test_the_execution_times_page_lists_every_executed_chapter(built_book):
    project, _ = built_book
    ((header, rows),) = all_html_tables(project / "_build" / "html" / "book" / "execution_times.html")
    listed = {row[0]: row for row in rows}
    for page in CHAPTER_PAGES:
        row = listed[f"book/{page}"]
        assert float(row[header.index("Run Time (s)")]) > 0 and row[header.index("Status")] == "✅"


def test_the_results_stamp_changes_with_the_results_the_package_code_and_the_measurements(tmp_path, monkeypatch):
    """Chapters call cltbook functions, which the execution cache cannot see: a change to them
    must re-execute the chapters like a change of results."""
    import cltbook.report.book as book_module

    package = tmp_path / "cltbook"
    package.mkdir()
    (package / "book.py").write_text("")
    (package / "analysis.py").write_text("def run_ids(): return 1\n")
    monkeypatch.setattr(book_module, "__file__", str(package / "book.py"))
    results = tmp_path / "results" / "demo"
    results.mkdir(parents=True)
    (results / "metrics.parquet").write_bytes(b"one")
    first = book_module._stamp("demo", tmp_path)
    assert book_module._stamp("demo", tmp_path) == first
    (package / "analysis.py").write_text("def run_ids(): return 2\n")
    second = book_module._stamp("demo", tmp_path)
    assert second != first
    (results / "metrics.parquet").write_bytes(b"two")
    third = book_module._stamp("demo", tmp_path)
    assert third not in (first, second)
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "gpu_world.json").write_text("{}")  # a measurement the pages show
    fourth = book_module._stamp("demo", tmp_path)
    assert fourth != third
    (tmp_path / "book" / "data").mkdir(parents=True)
    (tmp_path / "book" / "data" / "world_ablation.csv").write_text("a\n")
    fifth = book_module._stamp("demo", tmp_path)
    assert fifth != fourth
    (tmp_path / "results" / "lab-script").mkdir()  # a lab exercise's results, whatever the study
    (tmp_path / "results" / "lab-script" / "predictions.parquet").write_bytes(b"one")
    assert book_module._stamp("demo", tmp_path) != fifth
