"""The lab (book/lab.md): exercises a student predicts, runs in minutes and checks.

Each exercise is a small study in ``studies/lab/<name>.yaml`` whose blocks are its arms, one run
each (the block's name names the run). :data:`EXERCISES` says, per exercise, which language
groups the answer reports and which arms it compares. :func:`estimates` computes the answer from
the exercise's collected results (``results/lab-<name>/``): each arm's headline score per task
and group, and each comparison's difference, with 95% bootstrap intervals over evaluation items
(:func:`cltbook.report.analysis.group_estimate` and
:func:`~cltbook.report.analysis.difference_estimate`). Until the runs exist, :func:`show_answer`
prints the commands that make them. ``bench/lab.py`` measures how long each exercise takes and
writes :data:`TIMES`, which :func:`show_time` and :func:`overview` read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cltbook.config import RunConfig, StudyConfig, load_study
from cltbook.report.analysis import LANGUAGE_GROUPS, difference_estimate, group_estimate
from cltbook.report.book import show_table
from cltbook.report.calibration import headline, language_blind
from cltbook.report.estimate import Estimate, fmt
from cltbook.report.style import GROUP_LABELS
from cltbook.sweep.runner import project_root

LAB = Path("studies") / "lab"
TIMES = Path("book") / "data" / "lab_times.csv"
TIME_COLUMNS = ("exercise", "runs", "workers", "cores", "seconds", "base_models_cached", "date")
WORKERS = 2  # what the page's commands use and the measurement assumes: a 2-core laptop
N_BOOT = 1000

# the book's own labels of the paper's language groups (cltbook.report.style)
ENGLISH, SEEN, UNSEEN = ((GROUP_LABELS[group], LANGUAGE_GROUPS[group]) for group in ("anchor", "seen", "unseen"))


@dataclass(frozen=True)
class Exercise:
    """What an exercise's answer reports: each arm's score on ``groups`` (label, languages), and
    ``comparisons`` (arm, minus arm) on the same groups, on every task both arms trained."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    comparisons: tuple[tuple[str, str], ...]

    @property
    def arms(self) -> set[str]:
        return {arm for pair in self.comparisons for arm in pair}


# In the order the lab page presents them (cheapest first, the pretraining one near the end).
EXERCISES: dict[str, Exercise] = {
    "english-only": Exercise(
        groups=(ENGLISH, SEEN, UNSEEN),
        comparisons=(("english-only", "base-model"), ("plus-100", "english-only")),
    ),
    "script": Exercise(
        groups=(("es, fr", ("es", "fr")), ("ja, zh", ("ja", "zh")), ("pt", ("pt",)), ("ar, ko", ("ar", "ko"))),
        comparisons=(("latin", "non-latin"),),
    ),
    "portuguese-seen": Exercise(
        groups=(("Spanish (es)", ("es",)), ("Arabic (ar)", ("ar",)), ("fr, ja, zh", ("fr", "ja", "zh"))),
        comparisons=(("plus-portuguese", "three-seen"), ("plus-portuguese", "plus-korean")),
    ),
    "double-english": Exercise(
        groups=(ENGLISH, SEEN, UNSEEN),
        comparisons=(("english-1000", "english-500"), ("english-500-plus-100", "english-1000")),
    ),
    "multi-task": Exercise(
        groups=(ENGLISH, SEEN, UNSEEN),
        comparisons=(
            ("together", "math-alone"),
            ("together", "summarization-alone"),
            ("together", "instruction-following-alone"),
        ),
    ),
    "no-anchors": Exercise(
        groups=(ENGLISH, SEEN, UNSEEN),
        comparisons=(
            ("no-anchors-english-only", "anchors-english-only"),
            ("no-anchors-plus-100", "anchors-plus-100"),
        ),
    ),
}


def study_file(name: str, root: Path | None = None) -> Path:
    """``studies/lab/<name>.yaml`` of an exercise of :data:`EXERCISES`."""
    if name not in EXERCISES:
        raise KeyError(f"no lab exercise {name!r}; known: {', '.join(EXERCISES)}")
    return (root or project_root()) / LAB / f"{name}.yaml"


def arms(study: StudyConfig) -> dict[str, RunConfig]:
    """Each block's one run, by the block's name; refuses a top-level grid or a block of several
    runs (an arm is one run, so the answer can name it)."""
    if study.grid:
        raise ValueError(f"study {study.name}: a top-level grid; a lab study's runs are its blocks, one each")
    found = {}
    for block in study.blocks:
        runs = dataclasses.replace(study, blocks=[block]).expand()
        if len(runs) != 1:
            raise ValueError(f"study {study.name}: block {block.name!r} has {len(runs)} runs; an arm is one run")
        found[block.name] = runs[0]
    return found


def commands(name: str) -> list[str]:
    """The commands that run an exercise and collect its results (from the project's root)."""
    path = LAB / f"{name}.yaml"
    return [f"cltbook run {path} --workers {WORKERS}", f"cltbook collect {path}"]


def _predictions(study: StudyConfig, root: Path) -> pd.DataFrame | None:
    path = root / "results" / study.name / "predictions.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def missing_arms(name: str, root: Path | None = None) -> list[str]:
    """The arms of an exercise whose run has no collected predictions (all of them before it ran)."""
    root = root or project_root()
    study = load_study(study_file(name, root))
    predictions = _predictions(study, root)
    done = set() if predictions is None else set(predictions["run_id"])
    return [arm for arm, config in arms(study).items() if config.run_id not in done]


def estimates(name: str, root: Path | None = None, n_boot: int = N_BOOT, blind: bool = False) -> pd.DataFrame:
    """The answer of exercise ``name`` from its collected results: one row per arm, task and group
    (``kind`` "score") and per comparison, task and group (``kind`` "difference": arm minus
    ``minus``), on the task's headline metric (with ``blind``, its twin that ignores the answer's
    language), with its 95% interval over evaluation items.

    Columns: kind, arm, minus, task, metric, group, languages, items, value, low, high. Raises
    when a run of the exercise has no collected predictions (see :func:`missing_arms`)."""
    root = root or project_root()
    exercise = EXERCISES[name]
    study = load_study(study_file(name, root))
    configs = arms(study)
    missing = missing_arms(name, root)
    if missing:
        raise FileNotFoundError(
            f"{study.name}: no collected results for {', '.join(missing)}; run: {'; '.join(commands(name))}"
        )
    predictions = _predictions(study, root)
    metric_of = language_blind if blind else headline
    rows = []

    def add(kind: str, arm: str, minus: str, task: str, group: str, languages, estimate: Estimate, items: int) -> None:
        rows.append(
            {
                "kind": kind,
                "arm": arm,
                "minus": minus,
                "task": task,
                "metric": metric_of(task),
                "group": group,
                "languages": ",".join(languages),
                "items": items,
                "value": estimate.value,
                "low": estimate.low,
                "high": estimate.high,
            }
        )

    for arm, config in configs.items():
        for task in config.tasks:
            for group, languages in exercise.groups:
                estimate = group_estimate(predictions, [config.run_id], task, metric_of(task), languages, n_boot=n_boot)
                add("score", arm, "", task, group, languages, estimate, config.evaluation.items_per_language)
    for arm, minus in exercise.comparisons:
        a, b = configs[arm], configs[minus]
        for task in [t for t in a.tasks if t in b.tasks]:
            for group, languages in exercise.groups:
                estimate = difference_estimate(
                    predictions, [a.run_id], [b.run_id], task, metric_of(task), languages, n_boot=n_boot
                )
                items = min(a.evaluation.items_per_language, b.evaluation.items_per_language)
                add("difference", arm, minus, task, group, languages, estimate, items)
    return pd.DataFrame(rows)


def answer_tables(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`estimates` as the page shows it: scores (run × task, a column per group) and
    differences (comparison × task), each cell formatted by :func:`cltbook.report.estimate.fmt`."""

    def wide(rows: pd.DataFrame, index: list[str]) -> pd.DataFrame:
        cells = rows.assign(cell=[fmt(Estimate(r.value, r.low, r.high)) for r in rows.itertuples()])
        groups = list(dict.fromkeys(rows["group"]))
        out = cells.pivot(index=index, columns="group", values="cell").reindex(columns=groups)
        out.columns.name = None
        return out.loc[list(dict.fromkeys(zip(*(rows[c] for c in index))))]

    scores = table[table["kind"] == "score"].assign(run=lambda t: t["arm"])
    differences = table[table["kind"] == "difference"].assign(comparison=lambda t: t["arm"] + " minus " + t["minus"])
    return wide(scores, ["run", "task"]), wide(differences, ["comparison", "task"])


def times(root: Path | None = None) -> pd.DataFrame | None:
    """The measured times (``bench/lab.py``), one row per exercise, or None before any measurement."""
    path = (root or project_root()) / TIMES
    return pd.read_csv(path) if path.is_file() else None


def time_text(name: str, root: Path | None = None) -> str:
    """One line: how long the exercise took when measured, or how to measure it."""
    measured = times(root)
    rows = measured[measured["exercise"] == name] if measured is not None else None
    if rows is None or rows.empty:
        return "Time: not measured yet: run `python bench/lab.py`."
    row = rows.iloc[-1]
    cached = (
        "every base model it needs was cached" if row["base_models_cached"] else "including pretraining its base model"
    )
    return (
        f"Time: **{row['seconds'] / 60:.1f} min** for {row['runs']} runs with {row['workers']} workers "
        f"on {row['cores']} cores ({cached}; measured {row['date']})."
    )


def overview(root: Path | None = None) -> pd.DataFrame:
    """The exercises: the question (each study's description), its runs and the measured time."""
    root = root or project_root()
    measured = times(root)
    rows = []
    for name in EXERCISES:
        study = load_study(study_file(name, root))
        mine = measured[measured["exercise"] == name] if measured is not None else pd.DataFrame()
        rows.append(
            {
                "exercise": name,
                "question": study.description,
                "runs": len(study.expand()),
                "measured minutes": f"{mine['seconds'].iloc[-1] / 60:.1f}" if len(mine) else "not measured yet",
            }
        )
    return pd.DataFrame(rows)


def show_time(name: str, root: Path | None = None) -> None:
    from IPython.display import Markdown, display

    display(Markdown(time_text(name, root)))


def pending_text(name: str, root: Path | None = None) -> str | None:
    """What to run before the exercise has an answer (markdown), or None once every run is collected."""
    missing = missing_arms(name, root)
    if not missing:
        return None
    lines = "\n".join(commands(name))
    return (
        f"No results yet for {', '.join(missing)}. From the project's root, run\n\n"
        f"```bash\n{lines}\n```\n\nand build the book again (`cltbook book`)."
    )


def answer_caption(table: pd.DataFrame) -> str:
    """What the numbers of :func:`estimates`' table are (markdown)."""
    metrics = ", ".join(f"`{m}` ({t.replace('_', ' ')})" for t, m in dict(zip(table["task"], table["metric"])).items())
    return (
        f"{metrics}, 0 to 1: the mean over each group's languages and {table['items'].min()} items per "
        "language, with a 95% interval over items. One seed per run: the interval leaves out "
        "fine-tuning noise, so read a small difference as not shown."
    )


def show_answer(name: str, root: Path | None = None) -> None:
    """The exercise's answer computed from its results, or the commands that produce them."""
    from IPython.display import Markdown, display

    pending = pending_text(name, root)
    if pending:
        display(Markdown(pending))
        return
    for blind, heading in ((False, "Headline score"), (True, "The same, whatever language the answer is in")):
        table = estimates(name, root, blind=blind)
        scores, differences = answer_tables(table)
        display(Markdown(f"**{heading}**: {answer_caption(table)}"))
        suffix = "-any-language" if blind else ""
        show_table(scores, f"lab-{name}-scores{suffix}")
        show_table(differences, f"lab-{name}-differences{suffix}")
