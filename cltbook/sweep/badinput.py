"""The catalogue of bad inputs: what `cltbook run` (and a papermill execution of the run notebook)
must refuse before any work, naming the field and the value.

Each :class:`BadInput` writes a small project into a scratch folder — the book's configuration,
the run notebook, a micro study — with exactly one thing wrong, and returns the command that must
refuse it. ``tests/test_bad_input.py`` runs every case and checks the exit code, the message, and
that ``runs/``, ``results/`` and the cache stay byte for byte as they were; ``book/reliability.md``
renders the same list as a table.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from cltbook.sweep.runner import NOTEBOOK

STUDY = Path("studies") / "case.yaml"
OUTPUT = "executed-case.ipynb"  # where a papermill case writes its notebook (outside runs/)

# A study small enough that a case which wrongly got through would finish in seconds.
MICRO: dict[str, Any] = {
    "world": {"corpus_documents": 300, "vocab_size": 300},
    "base_model": {"size": "micro", "pretrain_steps": 2, "pretrain_batch_size": 2},
    "mixture": {"anchor_examples": 4, "n_per_language": 2},
    "training": {"max_steps": 2, "eval_every": 1, "validation_per_language": 2},
    "evaluation": {"items_per_language": 2, "max_new_tokens": 4},
}


@dataclass(frozen=True)
class BadInput:
    name: str  # the test id
    kind: str  # study file | notebook | notebook parameter | model folder | data file | command line
    what: str  # what is wrong, for the table
    field: str  # the field path the error message must name
    value: str  # the bad value as the message shows it
    write: Callable[[Path], list[str]]  # writes the case into a project folder; returns the command
    exit_code: int = 2

    @property
    def program(self) -> str:
        return "papermill" if self.kind == "notebook parameter" else "cltbook"


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _run(*extra: str) -> list[str]:
    return ["run", str(STUDY), "--runs-dir", "runs", "--cache-dir", ".cache", *extra]


def study_text(text: str, encoding: str = "utf-8") -> Callable[[Path], list[str]]:
    """A study file with this exact text."""

    def write(project: Path) -> list[str]:
        (project / STUDY).write_text(text, encoding=encoding)
        return _run()

    return write


def study(
    base: dict[str, Any] | None = None,
    grid: dict[str, Any] | None = None,
    files: Callable[[Path], None] = lambda project: None,
    **top: Any,
) -> Callable[[Path], list[str]]:
    """The micro study with ``base`` laid over it (and other files written by ``files``)."""

    def write(project: Path) -> list[str]:
        files(project)
        data = {"name": "case", "base": _merged(MICRO, base or {}), "grid": grid or {}, **top}
        (project / STUDY).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return _run()

    return write


def alias_bomb(levels: int, width: int) -> str:
    """A small study whose unknown key holds ``levels`` nested aliases of ``width`` each: a few
    hundred bytes that expand to width ** levels values if anything walks them."""
    lines = ["    a0: &a0 [0, 1]"] + [
        f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)
    ]
    return "name: case\nnotes:\n" + "\n".join(lines) + "\n"


def command_line(*extra: str) -> Callable[[Path], list[str]]:
    def write(project: Path) -> list[str]:
        study()(project)
        return _run(*extra)

    return write


def notebook_edit(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], list[str]]:
    """The run notebook (as JSON) changed by ``edit``; a str returned replaces the file's text."""

    def write(project: Path) -> list[str]:
        path = project / NOTEBOOK
        notebook = json.loads(path.read_text(encoding="utf-8"))
        changed = edit(notebook)
        path.write_text(changed if isinstance(changed, str) else json.dumps(notebook, indent=1), encoding="utf-8")
        return study()(project)

    return write


def _parameters_cell(notebook: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))


def _untag(notebook: dict[str, Any]) -> None:
    _parameters_cell(notebook)["metadata"]["tags"] = []


def _misspell_parameter(notebook: dict[str, Any]) -> None:
    cell = _parameters_cell(notebook)
    cell["source"] = "".join(cell["source"]).replace("seen_languages =", "seen_langauges =")


def papermill(parameters: dict[str, Any]) -> Callable[[Path], list[str]]:
    """The run notebook executed by papermill with these parameters (as YAML, so types survive)."""

    def write(project: Path) -> list[str]:
        values = {
            **_merged(MICRO, {}),
            "study": "case",
            "run_dir": "runs/case/by-hand",
            "cache_dir": ".cache",
            "threads": 1,
            **parameters,
        }
        return [
            str(NOTEBOOK),
            OUTPUT,
            "-y",
            yaml.safe_dump(values),
            "--cwd",
            str(project),
            "-k",
            "python3",
            "--no-progress-bar",
        ]

    return write


# Model folders ------------------------------------------------------------------------------

MODEL = "./models/m"
SAFETENSORS = len(b'{"__metadata__":{}}').to_bytes(8, "little") + b'{"__metadata__":{}}'


def model_folder(**files: bytes | str) -> Callable[[Path], list[str]]:
    """A model folder holding ``files`` (name -> content; dots in names written as '__')."""

    def write(project: Path) -> list[str]:
        folder = project / MODEL
        folder.mkdir(parents=True)
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            (folder / name.replace("__", ".")).write_bytes(data)
        return study({"base_model": {"source": MODEL}})(project)

    return write


GOOD_MODEL = {"config__json": "{}", "model__safetensors": SAFETENSORS, "tokenizer__json": "{}"}


# Data files ---------------------------------------------------------------------------------


def _mgsm_folder(folder: Path, items: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for code, word in (("en", "How many"), ("es", "Cuántos")):
        lines = [f"{word} apples are {i} plus {i}?\t{2 * i}" for i in range(1, items + 1)]
        (folder / f"mgsm_{code}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _mcot_lines(items: int) -> list[str]:
    return [
        json.dumps(
            {
                "question": f"{word} {i} + {i}?",
                "answer": f"{i} + {i} = {2 * i}. {answer} {2 * i}",
                "lang-id": f"{code}-{i}",
            },
            ensure_ascii=False,
        )
        for code, word, answer in (("en", "What is", "The answer is"), ("es", "Cuánto es", "La respuesta es"))
        for i in range(1, items + 1)
    ]


def real_data(
    train_text: bytes | None = None,
    *,
    train_path: str = "data/train.jsonl",
    evaluation_source: dict[str, str] | None = None,
    **base: Any,
) -> Callable[[Path], list[str]]:
    """A real-data study: mCoT-MATH-style training lines, MGSM-style evaluation files."""

    def files(project: Path) -> None:
        _mgsm_folder(project / "data" / "mgsm", items=8)
        (project / "data" / "train.jsonl").write_bytes(
            train_text if train_text is not None else ("\n".join(_mcot_lines(8)) + "\n").encode("utf-8")
        )

    data = {
        "source": "real",
        "train": {"math_reasoning": {"loader": "mcot_math", "path": train_path}},
        "evaluation": {"math_reasoning": evaluation_source or {"loader": "mgsm", "path": "data/mgsm"}},
    }
    overrides = _merged({"seen_languages": ["es"], "unseen_languages": [], "data": data}, base)
    return study(overrides, files=files)


def _lines_with(index: int, line: bytes) -> bytes:
    lines = [text.encode("utf-8") for text in _mcot_lines(8)]
    lines[index] = line
    return b"\n".join(lines) + b"\n"


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------

CASES: list[BadInput] = [
    # study files: keys and types
    BadInput(
        "unknown-key",
        "study file",
        "a top-level key the study does not have",
        "gird",
        "'grid'",
        study_text("name: case\ngird:\n  seed: [0, 1]\n"),
    ),
    BadInput(
        "misspelt-key",
        "study file",
        "a misspelt field inside a section",
        "mixture.n_per_langauge",
        "'n_per_language'",
        study({"mixture": {"n_per_langauge": 5}}),
    ),
    BadInput(
        "misspelt-grid-path",
        "study file",
        "a grid key naming no field",
        "grid.mixture.n_per_langauge",
        "'n_per_language'",
        study(grid={"mixture.n_per_langauge": [0, 5]}),
    ),
    BadInput("string-for-integer", "study file", "a quoted number", "seed", "str '3'", study({"seed": "3"})),
    BadInput(
        "boolean-for-integer", "study file", "true where a count belongs", "seed", "bool True", study({"seed": True})
    ),
    BadInput(
        "quoted-float",
        "study file",
        "a quoted learning rate (text, not a number)",
        "training.learning_rate",
        "write it as a plain number",
        study_text("name: case\nbase:\n  training:\n    learning_rate: '3e-4'\n"),
    ),
    # study files: said twice, said too much, not said
    BadInput(
        "duplicate-nested-key",
        "study file",
        "a count written twice in one section (YAML keeps the last)",
        "base.mixture.n_per_language",
        "lines 4 and 5",
        study_text("name: case\nbase:\n  mixture:\n    n_per_language: 2\n    n_per_language: 5\n"),
    ),
    BadInput(
        "duplicate-grid",
        "study file",
        "a second top-level grid that would drop the first",
        "grid",
        "lines 2 and 4",
        study_text("name: case\ngrid:\n  seed: [0, 1]\ngrid:\n  data_seed: [0, 1]\n"),
    ),
    BadInput(
        "duplicate-grid-key",
        "study file",
        "a key repeated inside a grid",
        "grid.seed",
        "lines 3 and 4",
        study_text("name: case\ngrid:\n  seed: [0, 1]\n  seed: [2]\n"),
    ),
    BadInput(
        "duplicate-name",
        "study file",
        "the study's name written twice",
        "name",
        "lines 1 and 2",
        study_text("name: case\nname: other\n"),
    ),
    BadInput(
        "duplicate-block-grid",
        "study file",
        "a grid written twice inside a block",
        "blocks[0].grid",
        "lines 4 and 5",
        study_text("name: case\nblocks:\n  - name: seeds\n    grid: {seed: [1]}\n    grid: {seed: [2]}\n"),
    ),
    BadInput(
        "infinite-learning-rate",
        "study file",
        'a learning rate of .inf (passes a "> 0" check)',
        "training.learning_rate",
        "inf",
        study_text("name: case\nbase:\n  training:\n    learning_rate: .inf\n"),
    ),
    BadInput(
        "huge-count",
        "study file",
        "10^12 pretraining steps (a typo that would run for months)",
        "base_model.pretrain_steps",
        "1,000,000,000,000",
        study({"base_model": {"pretrain_steps": 10**12}}),
    ),
    BadInput(
        "missing-study-name",
        "study file",
        "a study without a name",
        "name",
        "is required",
        study_text("grid:\n  seed: [0]\n"),
    ),
    BadInput(
        "missing-block-name",
        "study file",
        "a block without a name",
        "blocks[0].name",
        "is required",
        study_text("name: case\nblocks:\n  - grid: {seed: [1]}\n"),
    ),
    BadInput(
        "alias-bomb",
        "study file",
        "700 bytes of nested YAML aliases that would expand to 10^11 values",
        "case.yaml",
        "at most 100,000",
        study_text(alias_bomb(levels=12, width=9)),
    ),
    BadInput(
        "study-is-a-folder",
        "study file",
        "a folder given where the study file belongs",
        "case.yaml",
        "is a folder",
        lambda project: (project / STUDY).mkdir(parents=True) or _run(),
    ),
    BadInput(
        "list-cut-by-comment",
        "study file",
        "a list cut by a comment (`[es, fr #, ja]`)",
        "case.yaml",
        "starts a YAML comment",
        study_text("name: case\nbase:\n  seen_languages: [es, fr #, ja]\n"),
    ),
    BadInput(
        "list-shortened-by-comment",
        "study file",
        "a list over two lines shortened by a comment (`[es, fr, #ja` ...)",
        "base.seen_languages",
        "'#ja'",
        study_text("name: case\nbase:\n  seen_languages: [es, fr, #ja\n    zh]\n"),
    ),
    BadInput(
        "value-in-a-comment",
        "study file",
        "a value swallowed by a YAML comment (`seed: #3`)",
        "base.seed",
        "'#3'",
        study_text("name: case\nbase:\n  seed: #3\n"),
    ),
    BadInput(
        "python-yaml-tag",
        "study file",
        "a !!python tag (arbitrary code under an unsafe loader)",
        "base.seed",
        "python/object/apply:os.system",
        study_text("name: case\nbase:\n  seed: !!python/object/apply:os.system ['touch hacked']\n"),
    ),
    BadInput(
        "study-not-utf8",
        "study file",
        "a study file that is not UTF-8",
        "case.yaml",
        "0xe9",
        study_text("name: case\ndescription: caf\u00e9\n", encoding="latin-1"),
    ),
    BadInput(
        "bad-study-name",
        "study file",
        "a study name that cannot name a folder",
        "name",
        "'../escape'",
        study_text("name: ../escape\n"),
    ),
    # languages
    BadInput(
        "unknown-language",
        "study file",
        "an unknown language code",
        "seen_languages[1]",
        "'xx'",
        study({"seen_languages": ["es", "xx"]}),
    ),
    BadInput(
        "language-outside-world",
        "study file",
        "a real language the miniature world lacks",
        "unseen_languages[0]",
        "'de'",
        study({"unseen_languages": ["de"]}),
    ),
    BadInput(
        "empty-language-list", "study file", "no seen language", "seen_languages", "[]", study({"seen_languages": []})
    ),
    BadInput(
        "duplicated-language",
        "study file",
        "a language listed twice",
        "seen_languages",
        "['es']",
        study({"seen_languages": ["es", "es", "fr"]}),
    ),
    BadInput(
        "seen-and-unseen",
        "study file",
        "a language both seen and unseen",
        "unseen_languages",
        "['es']",
        study({"unseen_languages": ["ar", "es"]}),
    ),
    BadInput(
        "anchor-also-seen",
        "study file",
        "the anchor language among the seen ones",
        "seen_languages",
        "'en'",
        study({"seen_languages": ["en", "es"]}),
    ),
    # values
    BadInput(
        "negative-count",
        "study file",
        "a negative number of examples",
        "mixture.n_per_language",
        "-5",
        study(grid={"mixture.n_per_language": [0, -5]}),
    ),
    BadInput(
        "n-beyond-world-pool",
        "study file",
        "n larger than the world's training pool",
        "mixture.n_per_language",
        "7000",
        study({"mixture": {"n_per_language": 7000}}),
    ),
    BadInput(
        "eval-items-beyond-world",
        "study file",
        "more evaluation items than the world holds",
        "evaluation.items_per_language",
        "5000",
        study({"evaluation": {"items_per_language": 5000}}),
    ),
    BadInput(
        "substitution-overflow",
        "study file",
        "multilingual examples exceeding the substitution total",
        "mixture.multilingual_per_language",
        "30",
        study({"mixture": {"design": "substitution", "total_examples": 100, "multilingual_per_language": 30}}),
    ),
    BadInput(
        "unknown-task", "study file", "a task that does not exist", "tasks[0]", "'poetry'", study({"tasks": ["poetry"]})
    ),
    BadInput(
        "unknown-choice",
        "study file",
        "a value outside a field's choices",
        "training.select_checkpoint",
        "'best'",
        study({"training": {"select_checkpoint": "best"}}),
    ),
    BadInput(
        "stop-loss-not-positive",
        "study file",
        "a training-loss target of zero, never reached",
        "training.stop_at_train_loss",
        "0",
        study({"training": {"stop_at_train_loss": 0}}),
    ),
    BadInput(
        "shares-not-summing-to-1",
        "study file",
        "corpus language shares that do not sum to 1",
        "world.language_shares",
        "0.9",
        study({"world": {"language_shares": {"en": 0.5, "es": 0.4}}}),
    ),
    BadInput(
        "empty-grid-axis", "study file", "a grid axis with no values", "grid.seed", "[]", study(grid={"seed": []})
    ),
    BadInput(
        "grid-names-a-section",
        "study file",
        "a grid key naming a whole section",
        "grid.mixture",
        "whole section",
        study(grid={"mixture": [{"n_per_language": 1}]}),
    ),
    BadInput(
        "repeated-block-name",
        "study file",
        "two blocks with one name",
        "blocks[1].name",
        "'a'",
        study(blocks=[{"name": "a"}, {"name": "a"}]),
    ),
    # the run notebook
    BadInput(
        "notebook-without-parameters",
        "notebook",
        "the run notebook has no cell tagged parameters",
        str(NOTEBOOK),
        "parameters",
        notebook_edit(_untag),
    ),
    BadInput(
        "notebook-misspelt-parameter",
        "notebook",
        "the parameters cell misspells a field",
        "parameters cell",
        "'seen_langauges'",
        notebook_edit(_misspell_parameter),
    ),
    BadInput(
        "notebook-not-json",
        "notebook",
        "a truncated notebook file",
        str(NOTEBOOK),
        "JSONDecodeError",
        notebook_edit(lambda notebook: json.dumps(notebook)[:200]),
    ),
    BadInput(
        "parameter-wrong-type",
        "notebook parameter",
        "a string passed for an integer parameter",
        "seed",
        "str '3'",
        papermill({"seed": "3"}),
        exit_code=1,
    ),
    BadInput(
        "parameter-unknown-key",
        "notebook parameter",
        "a misspelt key inside a section parameter",
        "mixture.n_per_langauge",
        "'n_per_language'",
        papermill({"mixture": {"n_per_langauge": 5}}),
        exit_code=1,
    ),
    # model folders
    BadInput(
        "model-folder-missing",
        "model folder",
        "base_model.source names no folder",
        "base_model.source",
        "'./models/absent'",
        study({"base_model": {"source": "./models/absent"}}),
    ),
    BadInput(
        "hub-id-not-cached-offline",
        "model folder",
        "a hub id that is not cached while the hub is offline",
        "base_model.source",
        "'nobody/no-such-model'",
        study({"base_model": {"source": "nobody/no-such-model"}}),
    ),
    BadInput(
        "model-without-config",
        "model folder",
        "a model folder without config.json",
        "base_model.source",
        "no config.json",
        model_folder(**{k: v for k, v in GOOD_MODEL.items() if k != "config__json"}),
    ),
    BadInput(
        "model-config-corrupt",
        "model folder",
        "a config.json that is not JSON",
        "base_model.source",
        "config.json is not valid JSON",
        model_folder(**{**GOOD_MODEL, "config__json": "{'hidden': 64"}),
    ),
    BadInput(
        "pickle-checkpoint-only",
        "model folder",
        "a folder holding only a pickle checkpoint",
        "base_model.source",
        "pytorch_model.bin",
        model_folder(config__json="{}", tokenizer__json="{}", pytorch_model__bin=b"\x80\x04K\x01."),
    ),
    BadInput(
        "safetensors-corrupt",
        "model folder",
        "weights that are not safetensors",
        "base_model.source",
        "model.safetensors is not a safetensors file",
        model_folder(**{**GOOD_MODEL, "model__safetensors": b"\x00" * 64}),
    ),
    BadInput(
        "tokenizer-missing",
        "model folder",
        "a model folder without a tokenizer",
        "base_model.source",
        "no tokenizer",
        model_folder(**{k: v for k, v in GOOD_MODEL.items() if k != "tokenizer__json"}),
    ),
    BadInput(
        "tokenizer-corrupt",
        "model folder",
        "a tokenizer.json that is not JSON",
        "base_model.source",
        "tokenizer.json is not valid JSON",
        model_folder(**{**GOOD_MODEL, "tokenizer__json": '{"model": '}),
    ),
    # data files
    BadInput(
        "data-file-missing",
        "data file",
        "a training file that does not exist",
        "data.train.math_reasoning.path",
        "'data/absent.jsonl'",
        real_data(train_path="data/absent.jsonl"),
    ),
    BadInput(
        "jsonl-malformed-line",
        "data file",
        "a JSON Lines file with a broken line",
        "data.train.math_reasoning.path",
        "train.jsonl:3",
        real_data(_lines_with(2, b'{"question": "What is 3 + 3?", "answer": ')),
    ),
    BadInput(
        "jsonl-array",
        "data file",
        "a JSON array where JSON Lines belong",
        "data.train.math_reasoning.path",
        "not a JSON array",
        real_data(b'[{"question": "q", "answer": "a", "lang-id": "en-1"}]\n'),
    ),
    BadInput(
        "data-not-utf8",
        "data file",
        "a data file that is not UTF-8",
        "data.train.math_reasoning.path",
        "not valid UTF-8",
        real_data(
            _lines_with(9, '{"question": "Cuánto es 2 + 2?", "answer": "4", "lang-id": "es-2"}'.encode("latin-1"))
        ),
    ),
    BadInput(
        "n-beyond-data",
        "data file",
        "n larger than the data holds",
        "mixture.n_per_language",
        "asks for 20",
        real_data(mixture={"n_per_language": 20}),
    ),
    BadInput(
        "evaluation-in-training",
        "data file",
        "evaluation items that are also training items",
        "data.evaluation.math_reasoning.path",
        "'data/mgsm'",
        real_data(
            train_path="data/mgsm",
            evaluation_source={"loader": "mgsm", "path": "data/mgsm"},
            data={"train": {"math_reasoning": {"loader": "mgsm"}}},
            evaluation={"items_per_language": 3},
        ),
    ),
    # the command line
    BadInput("zero-workers", "command line", "no worker to run on", "--workers", "0", command_line("--workers", "0")),
    BadInput(
        "negative-timeout", "command line", "a negative time limit", "--timeout", "-5", command_line("--timeout=-5")
    ),
    BadInput(
        "negative-threads", "command line", "a negative thread count", "--threads", "-1", command_line("--threads=-1")
    ),
]

PROJECT_FILES = ("_config.yml", "_toc.yml", str(NOTEBOOK))


def prepare(case: BadInput, project: Path, root: Path) -> list[str]:
    """A scratch project for ``case`` (the book's configuration and the run notebook copied from
    ``root``, plus earlier runs, results and a cache entry to stay untouched); returns the command
    arguments (after the program name)."""
    for name in PROJECT_FILES:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, project / name)
    (project / STUDY).parent.mkdir(parents=True, exist_ok=True)
    earlier = {
        "runs/case/0123456789ab/record.json": '{"status": "ok"}\n',
        "results/case/metrics.parquet": "earlier results\n",
        ".cache/base_models/earlier/pretraining.json": "{}\n",
    }
    for name, text in earlier.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    return case.write(project)
