"""Real datasets in a run: the configured sources read into one mixture of examples.

The paper's augmentation design on real data, per task: the anchor-language (English) set plus n
examples per seen language from the training source, evaluation items in every language from
the evaluation source (``config.data``). Each source is read by its loader in
:mod:`cltbook.data.datasets`, whose report (files read, rows per language, ``missing_languages``, bad
records with file, line and reason, ``n_bad_records``) goes into the run's record unchanged: a
language a source lacks is recorded there, never silently dropped.

Prompt layouts (the text after BOS for ``prompt_format: plain``; the user turn for ``chat``):

* math_reasoning: MGSM's native chain-of-thought layout (``cltbook.languages.format_prompt``),
  the worked answer, or the answer sentence alone, as completion; k-shot evaluation prompts
  start with the language's MGSM exemplars where the exemplar source has them (a language
  without exemplars is evaluated 0-shot, and the report says so in ``shots_per_language``);
* summarization: the article (cut at ``max_input_chars``), a line break and the language's
  summary label ("Resumen:"), then the summary;
* instruction_following: the instruction, then a line break and the response.

Every real example carries a :class:`RealScoring` in ``Example.checks``: the run's languages
(language identification chooses among them), and for instruction following either the IFEval
record whose instructions are checked or the judge that rates the response.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from cltbook.config import ConfigError, JudgeSettings, RunConfig, SourceConfig
from cltbook.data import datasets
from cltbook.data.datasets import NoExemplarsError, mgsm_exemplars
from cltbook.data.sampling import Mixture, language_permutation
from cltbook.example import Example
from cltbook.languages import format_prompt, get_language
from cltbook.tasks import SOURCE_TASKS, TASKS
from cltbook.world import LeakError
from cltbook.world.lexicon import TASK_PHRASES

DEFAULT_SUMMARY_LABEL = "Summary:"


@dataclass(frozen=True)
class RealScoring:
    """What scoring a real example's output needs besides the example itself."""

    languages: tuple[str, ...]
    ifeval: Any = None  # a cltbook.scoring.ifeval.IFEvalRecord: the instructions to check
    judge: JudgeSettings | None = None


# --------------------------------------------------------------------------------------------
# Reading sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A kind of real dataset: the task its data serves, the function that reads it
    (``read(path, languages, **options) -> datasets.LoadedData``), its default column map (a
    config's ``columns`` are laid over it), and whether it takes a ``split`` and the bad-record
    options (``on_bad_record``, ``max_bad_fraction``)."""

    name: str
    task: str
    read: Callable[..., Any]
    columns: datasets.ColumnMap | None = None
    takes_split: bool = False
    takes_bad_records: bool = False


SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> Source:
    """Make ``source`` a loader configs can name (``data.<part>.<task>.loader``)."""
    if source.task not in TASKS:
        raise ValueError(f"source {source.name!r} serves {source.task!r}, which is not a registered task")
    if SOURCE_TASKS.get(source.name, source.task) != source.task:
        raise ValueError(f"{source.name!r} is registered for {SOURCE_TASKS[source.name]}, not {source.task}")
    SOURCE_TASKS[source.name] = source.task
    SOURCES[source.name] = source
    return source


def _read_ifeval(path: str | Path, languages: Sequence[str], **options):
    files = ifeval_files(path, options.pop("files", None), languages)
    return datasets.load_ifeval_prompts(files, languages=languages, **options)


register_source(Source("mgsm", "math_reasoning", datasets.load_mgsm, datasets.MGSM_COLUMNS))
register_source(
    Source("mcot_math", "math_reasoning", datasets.load_mcot_math, datasets.MCOT_MATH_COLUMNS, takes_bad_records=True)
)
for _name, _read, _columns, _task in (
    ("xlsum", datasets.load_xlsum, datasets.XLSUM_COLUMNS, "summarization"),
    ("sharegpt", datasets.load_sharegpt, datasets.SHAREGPT_COLUMNS, "instruction_following"),
    ("aya", datasets.load_aya, datasets.AYA_COLUMNS, "instruction_following"),
    ("aya_dolly", datasets.load_aya_dolly, datasets.AYA_DOLLY_COLUMNS, "instruction_following"),
):
    register_source(Source(_name, _task, _read, _columns, takes_split=True, takes_bad_records=True))
register_source(Source("ifeval", "instruction_following", _read_ifeval, takes_bad_records=True))


def ifeval_files(path: str | Path, files: dict[str, str] | None, languages: Sequence[str]) -> dict[str, Path]:
    """The IFEval-format file of each language that has one in the source folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"ifeval source {str(path)!r} is not a folder of per-language files")
    names = {code: (files or {}).get(code, f"{code}.jsonl") for code in languages}
    return {code: folder / name for code, name in names.items() if (folder / name).is_file()}


def load_source(source: SourceConfig, task: str, languages: Sequence[str], data):
    """One configured dataset, read by its registered :class:`Source`."""
    kind = SOURCES[source.loader]
    options: dict = {}
    if kind.columns is not None:
        options["columns"] = dataclasses.replace(kind.columns, **(source.columns or {}))
    if kind.takes_split:
        options["split"] = source.split
    if kind.takes_bad_records:
        options.update(on_bad_record=data.on_bad_record, max_bad_fraction=data.max_bad_fraction)
    if source.files is not None:
        options["files"] = source.files
    loaded = kind.read(source.path, languages, **options)
    return dataclasses.replace(loaded, frame=loaded.frame.assign(task=task))


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


def few_shot_shots(config: RunConfig, language: str) -> list[dict]:
    """The first k MGSM exemplars of ``language``; none where the exemplar source has none."""
    if config.data.few_shot == 0:
        return []
    try:
        return mgsm_exemplars(config.data.exemplars, language)[: config.data.few_shot]
    except NoExemplarsError:
        return []


def few_shot_prefix(shots: Sequence[dict]) -> str:
    """Worked exemplars joined as lm-evaluation-harness does: question, answer, blank line."""
    return "".join(f"{shot['question']}\n{shot['answer']}\n\n" for shot in shots)


def _cut(text: str, max_chars: int | None) -> str:
    return text if max_chars is None else text[:max_chars]


def summary_label(language: str) -> str:
    """The summary label of a world language ("Resumen:"), else English's."""
    phrases = TASK_PHRASES.get(language)
    return phrases["summary_label"] if phrases else DEFAULT_SUMMARY_LABEL


def math_example(row, language: str, scoring: RealScoring, source: SourceConfig, prefix: str = "") -> Example:
    """A real math item in the MGSM layout; without a worked answer the target is the answer
    sentence alone ("The answer is 18.")."""
    answer = float(row["answer"]) if pd.notna(row["answer"]) else None
    target = row["target"] or ""
    if not target and answer is not None:
        target = get_language(language).answer_template.format(f"{answer:g}")
    return Example(
        task="math_reasoning",
        language=language,
        item_id=str(row["item_id"]),
        prompt=prefix + format_prompt(language, _cut(row["input"], source.max_input_chars)),
        completion=" " + target,
        answer=answer,
        checks=(scoring,),
        source="real",
    )


def summary_example(row, language: str, scoring: RealScoring, source: SourceConfig, prefix: str = "") -> Example:
    prompt = f"{_cut(row['input'], source.max_input_chars)}\n{summary_label(language)}"
    return Example(
        task="summarization",
        language=language,
        item_id=str(row["item_id"]),
        prompt=prefix + prompt,
        completion=" " + row["target"],
        checks=(scoring,),
        source="real",
    )


def instruction_example(row, language: str, scoring: RealScoring, source: SourceConfig, prefix: str = "") -> Example:
    return Example(
        task="instruction_following",
        language=language,
        item_id=str(row["item_id"]),
        prompt=prefix + _cut(row["input"], source.max_input_chars),
        completion="\n" + row["target"],
        checks=(scoring,),
        source="real",
    )


_EXAMPLES = {
    "math_reasoning": math_example,
    "summarization": summary_example,
    "instruction_following": instruction_example,
}


# --------------------------------------------------------------------------------------------
# The mixture
# --------------------------------------------------------------------------------------------


def _language_pool(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    return frame[frame["language"] == code].sort_values("item_id", kind="stable")


def build_real_mixture(config: RunConfig, loaded: dict[str, Any] | None = None) -> Mixture:
    """The augmentation (or substitution) design on real datasets: anchor set + n per seen
    language, per task.

    Validation items are the LAST items of each language's permutation, so they never meet the
    training prefix whatever n is; evaluation items are the first ``items_per_language`` by item
    id, checked against training by item id and by text unless `data.allow_eval_in_train` is set
    (overfitting checks only). ``loaded`` holds sources already read (by the preflight), by
    field ("data.train.<task>"), read with the languages this function would ask for.
    """
    loaded = loaded or {}
    data, mixture = config.data, config.mixture
    counts = config.language_counts()
    validation_n = config.training.validation_per_language
    base_scoring = RealScoring(languages=config.evaluation_languages)
    train: list[Example] = []
    validation: list[Example] = []
    evaluation: list[Example] = []
    reports: dict[str, dict] = {}
    for task in config.tasks:
        make = _EXAMPLES[task]
        source = data.train[task]
        if any(counts.values()):
            train_data = loaded.get(f"data.train.{task}") or load_source(source, task, tuple(counts), data)
            reports[f"train.{task}"] = train_data.report
        for code, count in counts.items():
            if not count:
                continue
            pool = _language_pool(train_data.frame, code)
            order = language_permutation(config.data_seed, task, code, len(pool), mixture.parallel)
            if count + validation_n > len(pool):
                raise ConfigError(
                    config.count_field(code),
                    f"{code} {task}: asks for {count} + {validation_n} validation items "
                    f"but {source.path} holds {len(pool)}",
                )
            train += [make(row, code, base_scoring, source) for _, row in pool.iloc[order[:count]].iterrows()]
            validation += [
                make(row, code, base_scoring, source)
                for _, row in pool.iloc[order[len(pool) - validation_n :]].iterrows()
            ]

        source = data.evaluation[task]
        loaded_eval = loaded.get(f"data.evaluation.{task}") or load_source(
            source, task, config.evaluation_languages, data
        )
        report = reports[f"evaluation.{task}"] = loaded_eval.report
        shots_per_language = {}
        for code in config.evaluation_languages:
            pool = _language_pool(loaded_eval.frame, code).head(config.evaluation.items_per_language)
            if pool.empty:
                continue  # in the report's missing_languages
            shots = few_shot_shots(config, code) if task == "math_reasoning" else []
            shots_per_language[code] = len(shots)
            for _, row in pool.iterrows():
                scoring = dataclasses.replace(
                    base_scoring, judge=source.judge, ifeval=loaded_eval.records.get((code, row["item_id"]))
                )
                evaluation.append(make(row, code, scoring, source, few_shot_prefix(shots)))
        if task == "math_reasoning" and data.few_shot:
            report["shots_per_language"] = shots_per_language
    if not data.allow_eval_in_train:
        _assert_no_overlap(train + validation, evaluation)
    return Mixture(tuple(train), tuple(validation), tuple(evaluation), reports)


def _assert_no_overlap(train: Sequence[Example], evaluation: Sequence[Example]) -> None:
    """Evaluation items never in training: compared by task, language and item id, and by prompt."""
    seen = {(ex.task, ex.language, ex.item_id) for ex in train} | {ex.prompt for ex in train}
    leaked = [ex.item_id for ex in evaluation if (ex.task, ex.language, ex.item_id) in seen or ex.prompt in seen]
    if leaked:
        raise LeakError(f"{len(leaked)} evaluation items are also training items: {leaked[:5]}")
