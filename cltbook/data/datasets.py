"""Real task data: one loader per public source, one tidy frame per load, a report of what happened.

The paper (arXiv:2504.16677) trains on English plus n examples per seen language and evaluates
every language, for three tasks: math reasoning (train mCoT-MATH, evaluate MGSM), summarization
(XL-Sum) and instruction following (ShareGPT-style chats; evaluate Aya Dolly200 and IFEval-format
prompts). Every loader here returns the same thing, a :class:`LoadedData`:

* ``frame``: one row per item with exactly the columns :data:`FRAME_COLUMNS` (``task``,
  ``language`` as ISO 639-1, ``item_id`` derived from the source, ``input``, ``target`` and
  ``answer``: the numeric gold of a math item, else NaN);
* ``report``: a JSON-serialisable dict of what was read (source, hub id or path, files, rows per
  language), what was asked for but is not there (``missing_languages``: recorded, never silently
  dropped), which records were bad (file, line, reason) and which schema facts are assumptions.

Hub ids and local files go through the same ``datasets.load_dataset`` call (``"json"`` / ``"csv"``
builders for local files), so a local export of a hub split yields the same frame as the hub. A
``source`` that exists on disk is local; otherwise it must look like a hub id (``owner/name``).
Local JSON Lines files are scanned line by line *before* ``datasets`` sees them, because its Arrow
reader can only say "row 1 of some block" when a line is malformed: here a bad line is named by
file and line, and either raises (``on_bad_record="error"``) or is skipped and listed in the report
(``"skip_and_report"``), with ``max_bad_fraction`` as the point where a file, not a record, is
broken. A file that is not UTF-8 always raises, naming the line: a wrong encoding corrupts every
non-ASCII record, not one.

Which columns hold what is a :class:`ColumnMap` per source, with defaults written from the public
schemas. Schemas checked against real files here: MGSM (TSV folder and exemplars) and the
IFEval-format files. The others (mCoT-MATH, XL-Sum, ShareGPT, Aya, Aya Dolly200) have no files in
this workspace: their defaults come from dataset cards and third-party loaders, each loader's
docstring says "schema unverified here", and the tests use fixtures written in those schemas.

Item ids are stable and source-derived: the source's own id where it has one; otherwise the
1-based position of the record in the source (line number of a local file, record number of a hub
split), so a local export without blank lines gets the same ids as the hub split.
"""

from __future__ import annotations

import csv
import json
import math
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import datasets
import pandas as pd
from datasets import Features, Value, load_dataset

from cltbook.languages import LANGUAGES, MGSM_LANGUAGES, get_language
from cltbook.records import DEFAULT_MAX_BAD_FRACTION, BadRecord, BadRecords, OnBadRecord, check_on_bad_record, location
from cltbook.scoring.extract import parse_number
from cltbook.scoring.ifeval import IFEvalRecord, MalformedIFEvalFile, load_ifeval_jsonl

Task = Literal["math_reasoning", "summarization", "instruction_following"]

FRAME_COLUMNS = ("task", "language", "item_id", "input", "target", "answer")
"""The columns of every loaded frame, in this order."""

_BATCH_SIZE = 10_000


# ---------------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class LoadedData:
    """A loaded source: the tidy frame, the report of how it was read, and what scoring needs that
    the frame leaves out, by (language, item id) (an IFEval prompt's instructions)."""

    frame: pd.DataFrame
    report: dict[str, Any]
    records: Mapping[tuple[str, str], Any] = field(default_factory=dict)


class DataFileError(ValueError):
    """A data file (or hub split) that cannot be read as promised: names file and line."""


class ColumnMapError(ValueError):
    """A ColumnMap names a column the source does not have."""


class NoExemplarsError(ValueError):
    """A source has no MGSM exemplars for a language."""


@dataclass(frozen=True)
class ColumnMap:
    """Which source column holds each frame field; ``None`` means the source has no such column.

    ``input`` is required. Without ``target`` the target is empty (evaluation-only data); without
    ``answer`` the answer is NaN; without ``item_id`` the id is the record's position in the
    source; without ``language`` the language comes from the file or config (one per language)
    or from the caller. ``script`` (ISO 15924, e.g. "Hans") is read where a source tells scripts
    apart, so Traditional Chinese is not counted as the paper's (Simplified) Chinese.
    """

    input: str
    target: str | None = None
    answer: str | None = None
    item_id: str | None = None
    language: str | None = None
    script: str | None = None

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"ColumnMap.{name} must be a non-empty string or None, got {value!r}")

    def check(self, available: Sequence[str], where: str) -> None:
        """Raise ColumnMapError naming every mapped column missing from ``available``."""
        missing = [
            f"{column!r} (ColumnMap.{name})"
            for name, column in asdict(self).items()
            if column is not None and column not in available
        ]
        if missing:
            raise ColumnMapError(
                f"{where}: column(s) {', '.join(missing)} not found; available columns: {', '.join(sorted(available))}"
            )


# Defaults per source, from the public schemas (see each loader for what is verified).
MGSM_COLUMNS = ColumnMap(input="question", answer="answer_number")
MCOT_MATH_COLUMNS = ColumnMap(input="question", target="answer", item_id="lang-id", language="lang-id")
XLSUM_COLUMNS = ColumnMap(input="text", target="summary", item_id="id")
SHAREGPT_COLUMNS = ColumnMap(input="conversations", target="conversations", item_id="id", language="language")
AYA_COLUMNS = ColumnMap(input="inputs", target="targets", language="language_code")
AYA_DOLLY_COLUMNS = ColumnMap(input="inputs", target="targets", item_id="id", language="language", script="script")

MGSM_HUB_ID = "juletxara/mgsm"
MCOT_MATH_HUB_ID = "laihuiyuan/mCoT-MATH"
MCOT_MATH_HUB_DATA_FILE = "lang-id/mcot-math.json"
XLSUM_HUB_ID = "csebuetnlp/xlsum"
AYA_HUB_ID = "CohereForAI/aya_dataset"
AYA_EVALUATION_HUB_ID = "CohereForAI/aya_evaluation_suite"

# XL-Sum names its per-language configs (and files) by folder name, not by ISO code. German is
# not in XL-Sum, so "de" is always recorded as missing.
XLSUM_CONFIGS: dict[str, str] = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "ja": "japanese",
    "zh": "chinese_simplified",
    "ar": "arabic",
    "ko": "korean",
    "pt": "portuguese",
    "ru": "russian",
    "th": "thai",
    "sw": "swahili",
    "bn": "bengali",
    "te": "telugu",
    "hi": "hindi",
    "id": "indonesian",
    "tr": "turkish",
}
# XL-Sum's files are <folder>_<train|val|test>.jsonl; the hub calls the middle split "validation".
_XLSUM_FILE_SPLITS = {"train": "train", "validation": "val", "test": "test"}


# ---------------------------------------------------------------------------------------------
# Language labels: sources write "spa", "Spanish", "zho_Hans" or "es"; the frame holds ISO 639-1.

# ISO 639-3 codes (and the ISO 639-2/B-style "ara", "zho" macrolanguages) of the registry's
# languages. Dialects (Moroccan Arabic "ary", Egyptian "arz", ...) are deliberately absent: they
# are reported as unmapped rather than counted as the paper's Modern Standard Arabic.
_ISO3 = {
    "eng": "en",
    "spa": "es",
    "fra": "fr",
    "jpn": "ja",
    "zho": "zh",
    "cmn": "zh",
    "arb": "ar",
    "ara": "ar",
    "kor": "ko",
    "por": "pt",
    "deu": "de",
    "rus": "ru",
    "tha": "th",
    "swa": "sw",
    "swh": "sw",
    "ben": "bn",
    "tel": "te",
    "hin": "hi",
    "ind": "id",
    "tur": "tr",
}
_NAME_ALIASES = {
    "simplified chinese": "zh",
    "chinese (simplified)": "zh",
    "mandarin chinese": "zh",
    "standard arabic": "ar",
    "modern standard arabic": "ar",
    "swahili (individual language)": "sw",
}
# ISO 15924 codes a language's rows may carry; the registry's Chinese is Simplified (Hans).
_SCRIPTS_BY_REGISTRY_SCRIPT = {
    "Latin": {"Latn"},
    "Han": {"Hans"},
    "Japanese": {"Jpan"},
    "Arabic": {"Arab"},
    "Hangul": {"Hang", "Kore"},
    "Cyrillic": {"Cyrl"},
    "Thai": {"Thai"},
    "Bengali": {"Beng"},
    "Telugu": {"Telu"},
    "Devanagari": {"Deva"},
}


def language_from_label(label: str, script: str | None = None) -> str | None:
    """The ISO 639-1 code of a source's language label, or None when it is not a registry language.

    Accepts ISO 639-1 ("es"), ISO 639-3 ("spa"), English names ("Spanish", "Simplified Chinese")
    and NLLB-style "zho_Hans"; a ``script`` (or the NLLB suffix) other than the language's own
    (e.g. "Hant" for Chinese) gives None, so such rows are reported, not mixed in.
    """
    text, _, suffix = label.strip().partition("_")
    script = script or suffix or None
    key = text.lower()
    code = key if key in LANGUAGES else _ISO3.get(key) or _NAME_ALIASES.get(key)
    if code is None:
        code = next((c for c, lang in LANGUAGES.items() if lang.name.lower() == key), None)
    if code is None:
        return None
    if script and script.strip() not in _SCRIPTS_BY_REGISTRY_SCRIPT[LANGUAGES[code].script]:
        return None
    return code


def _requested(languages: Sequence[str]) -> tuple[str, ...]:
    """Validated, de-duplicated ISO codes: a typo fails here instead of loading nothing."""
    if isinstance(languages, str):
        raise TypeError(f"languages must be a sequence of codes, got the string {languages!r}")
    return tuple(dict.fromkeys(get_language(code).code for code in languages))


# ---------------------------------------------------------------------------------------------
# Reading local files line by line (encoding, JSON) before handing them to `datasets`


class _RecordError(ValueError):
    """What is wrong with one record; the collector adds where it is."""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of a UTF-8 file; a non-UTF-8 line raises, naming it."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataFileError(
                    f"{path}:{number}: not valid UTF-8 (byte {raw[error.start]:#04x} at column "
                    f"{error.start + 1}); re-encode the file as UTF-8"
                ) from None


def _check_utf8(path: Path) -> None:
    """Raise DataFileError at the first line of ``path`` that is not UTF-8."""
    for _ in _lines(path):
        pass


@dataclass
class _Table:
    """One split to read: the dataset, a name for messages, and where each row came from."""

    dataset: datasets.Dataset
    name: str
    lines: list[int] | None = None  # line number of each row of a local file
    language: str | None = None  # the language a per-language file or config implies


def _cache(cache_dir: str | Path | None) -> str | None:
    """``datasets``' cache folder argument; None means its default (~/.cache/huggingface)."""
    return None if cache_dir is None else str(cache_dir)


def _load_local_jsonl(path: Path, bad: BadRecords, cache_dir: str | Path | None) -> _Table:
    """A JSON Lines file through ``datasets``' json builder, malformed lines caught first.

    In skip mode the good lines go to a temporary copy, since the Arrow reader cannot skip a line.
    """
    good: list[int] = []
    n_bad = 0
    for number, text in _lines(path):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            reason = f"invalid JSON ({error.msg} at column {error.colno})"
        else:
            if isinstance(record, dict):
                good.append(number)
                continue
            reason = f"expected a JSON object, got {type(record).__name__}"
            if number == 1 and isinstance(record, list):
                reason += " (this loader reads JSON Lines: one object per line, not a JSON array)"
        bad.reject(BadRecord(file=str(path), line=number, row=None, reason=reason))
        n_bad += 1
    if not good:
        return _Table(dataset=datasets.Dataset.from_dict({}), name=str(path), lines=[])
    with tempfile.TemporaryDirectory() as scratch:
        data_file = path
        if n_bad:
            data_file = Path(scratch) / path.name
            wanted = set(good)
            with data_file.open("w", encoding="utf-8") as out:
                out.writelines(text.rstrip("\r\n") + "\n" for number, text in _lines(path) if number in wanted)
        # The Arrow table lands in the cache, so the scratch copy may go once this returns.
        dataset = load_dataset("json", data_files=str(data_file), split="train", cache_dir=_cache(cache_dir))
    return _Table(dataset=dataset, name=str(path), lines=good)


def _load_local_tsv(path: Path, columns: Sequence[str], cache_dir: str | Path | None) -> _Table:
    """A header-less TSV through ``datasets``' csv builder, every line checked for its field count.

    Checked first because pandas, given fewer names than fields, silently turns the extra leading
    field into an index; quoting is off because MGSM questions contain literal double quotes.
    """
    lines = []
    for number, text in _lines(path):
        fields = text.rstrip("\r\n").split("\t")
        if len(fields) != len(columns) or not all(f.strip() for f in fields):
            raise DataFileError(
                f"{path}:{number}: expected {len(columns)} non-empty tab-separated fields "
                f"({', '.join(columns)}), got {len(fields)}"
            )
        lines.append(number)
    dataset = load_dataset(
        "csv",
        data_files=str(path),
        split="train",
        cache_dir=_cache(cache_dir),
        delimiter="\t",
        header=None,
        column_names=list(columns),
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        features=Features({name: Value("string") for name in columns}),
    )
    return _Table(dataset=dataset, name=str(path), lines=lines)


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _local_path(source: str | Path) -> Path | None:
    """The local path ``source`` names, or None when it is a hub id; anything else raises."""
    path = Path(source).expanduser()
    if path.exists():
        return path
    if isinstance(source, str) and _HUB_ID.fullmatch(source):
        return None
    raise FileNotFoundError(f"{source!s} is neither an existing path nor a hub id (owner/name)")


def _load_hub(
    hub_id: str, config: str | None, split: str, cache_dir: str | Path | None, data_files: str | None = None
) -> _Table:
    dataset = load_dataset(hub_id, config, split=split, data_files=data_files, cache_dir=_cache(cache_dir))
    name = f"{hub_id}[{config + '/' if config else ''}{split}]"
    return _Table(dataset=dataset, name=name)


# ---------------------------------------------------------------------------------------------
# From rows to the frame


@dataclass(frozen=True)
class _Fields:
    """What one record of a requested language contributes to the frame."""

    item_id: str
    input: str
    target: str
    answer: float


Label = Callable[[Mapping[str, Any], _Table], tuple[str, str | None]]
"""(row, table) -> the source's language label and script; raises _RecordError when absent.
Read before anything else, so records of languages nobody asked for are never validated."""
Extract = Callable[[Mapping[str, Any], _Table, int], _Fields]
"""(row, table, 1-based position) -> fields; raises _RecordError for a bad record."""


def _text(row: Mapping[str, Any], column: str | None, what: str, required: bool) -> str:
    if column is None:
        return ""
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _RecordError(f"empty {what} (column {column!r})")
        return ""
    if not isinstance(value, str):
        raise _RecordError(f"{what} (column {column!r}) must be a string, got {type(value).__name__}")
    return value


def _item_id(row: Mapping[str, Any], column: str | None, prefix: str, position: int, width: int = 0) -> str:
    if column is None:
        return f"{prefix}-{position:0{width}d}"
    value = row.get(column)
    if value is None or str(value).strip() == "":
        raise _RecordError(f"empty item id (column {column!r})")
    return str(value)


def _numeric_gold(value: Any) -> float:
    """A gold answer as a float; strings are read as English numbers ("2,125" is 2125)."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise _RecordError(f"answer must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    number = parse_number(str(value), "en") if isinstance(value, str) else None
    if number is None or not re.fullmatch(r"\s*-?[\d,]+(\.\d+)?\s*", str(value)):
        raise _RecordError(f"answer {value!r} is not a number")
    return number


def _column_label(columns: ColumnMap) -> Label:
    """The language of a per-language file or config, else the language (and script) columns."""

    def label(row: Mapping[str, Any], table: _Table) -> tuple[str, str | None]:
        if table.language is not None:
            return table.language, None
        return (
            _text(row, columns.language, "language", required=True),
            _text(row, columns.script, "script", required=False) or None,
        )

    return label


def _table_columns(columns: ColumnMap, id_prefix: str, id_width: int = 0) -> Extract:
    """The plain extractor: every field straight from its column (MGSM, XL-Sum, Aya, Dolly).

    Without an id column the id is ``<id_prefix>-<position>``, zero-padded to ``id_width`` digits
    where the size of a source is fixed (so sorting ids sorts positions); the prefix names the
    source, not the file, so a local export and the hub split get the same ids.
    """

    def extract(row: Mapping[str, Any], table: _Table, position: int) -> _Fields:
        return _Fields(
            item_id=_item_id(row, columns.item_id, id_prefix, position, id_width),
            input=_text(row, columns.input, "input", required=True),
            target=_text(row, columns.target, "target", required=False),
            answer=math.nan if columns.answer is None else _numeric_gold(row.get(columns.answer)),
        )

    return extract


@dataclass
class _Collector:
    """Gathers the frame's rows and the report's counts across one or more tables."""

    task: Task
    languages: tuple[str, ...]
    on_bad_record: OnBadRecord
    max_bad_fraction: float
    require_target: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    rows_read: int = 0
    rows_other_languages: int = 0
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bad = BadRecords(self.on_bad_record, self.max_bad_fraction, error=DataFileError)

    def reject(self, record: BadRecord) -> None:
        self.bad.reject(record)

    def read(self, table: _Table, columns: ColumnMap, label: Label, extract: Extract) -> None:
        self.files_read.append(table.name)
        if len(table.dataset) == 0:
            return
        columns.check(table.dataset.column_names, table.name)
        needed = list(dict.fromkeys(c for c in asdict(columns).values() if c is not None))
        row_index = 0
        for batch in table.dataset.select_columns(needed).iter(batch_size=_BATCH_SIZE):
            for values in zip(*(batch[c] for c in needed)):
                self._add(dict(zip(needed, values)), table, row_index, label, extract)
                row_index += 1

    def _add(self, row: dict[str, Any], table: _Table, row_index: int, label: Label, extract: Extract) -> None:
        self.rows_read += 1
        line = None if table.lines is None else table.lines[row_index]
        position = line if line is not None else row_index + 1

        def bad(reason: str) -> BadRecord:
            return BadRecord(file=table.name, line=line, row=row_index + 1, reason=reason)

        try:
            name, script = label(row, table)
            language = language_from_label(name, script)
            if language is None:
                self.unmapped[name if script is None else f"{name}/{script}"] += 1
                return
            if language not in self.languages:
                self.rows_other_languages += 1
                return
            fields = extract(row, table, position)
            if self.require_target and not fields.target.strip():
                raise _RecordError("empty target (training data needs one)")
        except _RecordError as error:
            self.reject(bad(str(error)))
            return
        key = (language, fields.item_id)
        if key in self._seen:
            self.reject(bad(f"duplicate item id {fields.item_id!r} for {language} (first at {self._seen[key]})"))
            return
        self._seen[key] = location(table.name, line, row_index + 1)
        self.rows.append(
            {
                "task": self.task,
                "language": language,
                "item_id": fields.item_id,
                "input": fields.input,
                "target": fields.target,
                "answer": fields.answer,
            }
        )

    def _read_order(self, record: BadRecord) -> tuple[int, int]:
        """Files in the order read, then lines: pre-scanned and record-level bad ones interleave."""
        position = record.line if record.line is not None else record.row
        return self.files_read.index(record.file), position or 0

    def finish(self, report: dict[str, Any], notes: Sequence[str] = ()) -> LoadedData:
        """The frame and the full report; raises when too many records were bad."""
        self.bad.check(self.rows_read + sum(1 for b in self.bad.records if b.row is None))
        frame = pd.DataFrame(self.rows, columns=list(FRAME_COLUMNS)).astype({"answer": "float64"})
        counts = frame.groupby("language").size().to_dict() if len(frame) else {}
        report.update(
            {
                "task": self.task,
                "datasets_version": datasets.__version__,
                "files_read": list(self.files_read),
                "languages_requested": list(self.languages),
                "rows_per_language": {lang: int(counts.get(lang, 0)) for lang in self.languages},
                "missing_languages": [lang for lang in self.languages if not counts.get(lang)],
                "rows_read": self.rows_read,
                "rows_other_languages": self.rows_other_languages,
                "unmapped_language_labels": dict(sorted(self.unmapped.items())),
                "bad_records": [asdict(b) for b in sorted(self.bad.records, key=self._read_order)],
                "n_bad_records": len(self.bad),
                "notes": list(notes),
            }
        )
        return LoadedData(frame=frame, report=report)


def _origin(source: str | Path, local: Path | None, **extra: Any) -> dict[str, Any]:
    return {"hub_id": None if local else str(source), "path": str(local) if local else None, **extra}


# ---------------------------------------------------------------------------------------------
# MGSM


def load_mgsm(
    source: str | Path,
    languages: Sequence[str],
    *,
    columns: ColumnMap = MGSM_COLUMNS,
    cache_dir: str | Path | None = None,
) -> LoadedData:
    """MGSM test items (Shi et al. 2022), the math evaluation set: 250 problems per language.

    ``source`` is a folder of ``mgsm_<lang>.tsv`` files (google-research/url-nlp layout: question
    TAB answer, no header; verified on shared/reference/mgsm) or the hub id ``juletxara/mgsm``
    (config = language, split ``test``; columns question, answer_number — the hub dataset is
    defined by a loading script, which ``datasets`` >= 4 no longer runs, so the hub path works only
    where the hub serves a data-only copy; unverified here). MGSM has 11 languages (no ar, ko, pt):
    others are recorded as missing. Items ``mgsm-001`` … ``mgsm-250`` are the problems in file
    order, the same problem in every language, so ids are parallel across languages and sort in
    problem order. A benchmark must be complete, so any bad record raises: no skip mode.
    """
    if columns.answer is None:
        raise ValueError("MGSM is scored against its numeric gold: columns.answer is required")
    requested = _requested(languages)
    local = _local_path(source)
    collector = _Collector(
        task="math_reasoning", languages=requested, on_bad_record="error", max_bad_fraction=0.0, require_target=False
    )
    for language in requested:
        if local is not None:
            path = local / f"mgsm_{language}.tsv"
            if not path.is_file():
                continue
            table = _load_local_tsv(path, (columns.input, columns.answer), cache_dir)
        elif language in MGSM_LANGUAGES:
            table = _load_hub(str(source), language, "test", cache_dir)
        else:
            continue
        table.language = language
        collector.read(table, columns, _column_label(columns), _table_columns(columns, "mgsm", id_width=3))
    report = {"source": "mgsm", **_origin(source, local, split="test")}
    return collector.finish(
        report,
        notes=[
            "MGSM has no ar, ko or pt; such languages are listed in missing_languages.",
            "Questions carry no 'Question:' prefix; answers are numbers ('2,125' read as 2125).",
        ],
    )


def mgsm_exemplars(source: str | Path, language: str, *, cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The 8 chain-of-thought exemplars of ``language``, for 8-shot MGSM prompts, in order.

    ``source`` is ``mgsm_exemplars.jsonl`` (shared/reference/mgsm: fields lang, idx, question,
    answer, answer_number, equation_solution; verified) or the hub id ``juletxara/mgsm``, whose
    ``train`` split per language holds the same exemplars without lang/idx (unverified here).
    ``question`` already starts with the native question prefix and ``answer`` with the native
    step-by-step prefix, so a prompt joins them without adding prefixes.
    """
    code = get_language(language).code
    local = _local_path(source)
    if local is None:
        if code not in MGSM_LANGUAGES:
            raise NoExemplarsError(
                f"{source}: MGSM has no exemplars for {code!r}; available: {', '.join(sorted(MGSM_LANGUAGES))}"
            )
        records = _load_hub(str(source), code, "train", cache_dir).dataset.to_list()
    else:
        table = _load_local_jsonl(local, BadRecords("error", error=DataFileError), cache_dir)
        ColumnMap(input="question", target="answer", answer="answer_number", language="lang").check(
            table.dataset.column_names, str(local)
        )
        rows = table.dataset.to_list()
        records = sorted((r for r in rows if r["lang"] == code), key=lambda r: r.get("idx") or 0)
        if not records:
            available = ", ".join(sorted({r["lang"] for r in rows}))
            raise NoExemplarsError(f"{local}: no MGSM exemplars for {code!r}; available: {available}")
    return records


# ---------------------------------------------------------------------------------------------
# mCoT-MATH


def load_mcot_math(
    source: str | Path,
    languages: Sequence[str],
    *,
    columns: ColumnMap = MCOT_MATH_COLUMNS,
    data_files: str | None = MCOT_MATH_HUB_DATA_FILE,
    on_bad_record: OnBadRecord = "error",
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    cache_dir: str | Path | None = None,
) -> LoadedData:
    """mCoT-MATH (Lai & Nissim 2024), the math training data: worked answers in 11 languages.

    Schema unverified here (no file available): the defaults assume records ``{"question",
    "answer", "lang-id"}`` with ``lang-id`` = "<lang>-<n>", as read by a third-party loader of the
    hub file ``lang-id/mcot-math.json`` (the hub id loads that ``data_files`` entry; the hub also
    has an 11.6 GB ``mcot_math.json`` without that column, which needs another ColumnMap). When
    ``columns.language`` and ``columns.item_id`` name the same column, its value is split at the
    first "-": the language, then the item number, which is shared by the translations of one
    problem. ``source`` may also be a local JSON Lines file in that schema. There is no numeric
    gold column, so ``answer`` is NaN (the worked answer is the target).
    """
    check_on_bad_record(on_bad_record)
    requested = _requested(languages)
    local = _local_path(source)
    column_label = _column_label(columns)
    extract = _table_columns(columns, "mcot")
    combined = columns.language is not None and columns.language == columns.item_id

    def split_lang_id(value: str) -> tuple[str, str]:
        language, separator, number = value.partition("-")
        if not separator or not language or not number:
            raise _RecordError(f"{columns.language!r} value {value!r} is not '<lang>-<n>'")
        return language, number

    def mcot_label(row: Mapping[str, Any], table: _Table) -> tuple[str, str | None]:
        name, script = column_label(row, table)
        return (split_lang_id(name)[0] if combined else name), script

    def mcot_fields(row: Mapping[str, Any], table: _Table, position: int) -> _Fields:
        fields = extract(row, table, position)
        if not combined:
            return fields
        return replace(fields, item_id=f"mcot-{split_lang_id(fields.item_id)[1]}")

    collector = _Collector(
        task="math_reasoning",
        languages=requested,
        on_bad_record=on_bad_record,
        max_bad_fraction=max_bad_fraction,
        require_target=True,
    )
    if local is not None:
        table = _load_local_jsonl(local, collector.bad, cache_dir)
    else:
        table = _load_hub(str(source), None, "train", cache_dir, data_files=data_files)
    collector.read(table, columns, mcot_label, mcot_fields)
    report = {"source": "mcot_math", **_origin(source, local, split="train", data_files=None if local else data_files)}
    return collector.finish(
        report,
        notes=[
            "mCoT-MATH schema unverified here: columns assumed question, answer, lang-id.",
            "No numeric gold column: answer is NaN.",
        ],
    )


# ---------------------------------------------------------------------------------------------
# XL-Sum


def load_xlsum(
    source: str | Path,
    languages: Sequence[str],
    split: str,
    *,
    columns: ColumnMap = XLSUM_COLUMNS,
    on_bad_record: OnBadRecord = "error",
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    cache_dir: str | Path | None = None,
) -> LoadedData:
    """XL-Sum (Hasan et al. 2021), the summarization data: article -> summary, per language.

    ``source`` is the hub id ``csebuetnlp/xlsum`` (config = XL-Sum folder name from
    :data:`XLSUM_CONFIGS`, e.g. "chinese_simplified" for zh) or a local folder of XL-Sum's
    ``<folder>_<train|val|test>.jsonl`` files. Fields id, url, title, summary, text (from the
    XL-Sum README; schema and file naming unverified here: the data is CC BY-NC-SA and not in this
    workspace). ``split`` is required ("train", "validation" or "test") so that test articles never
    reach training by a default. Languages without an XL-Sum config (de) or file are recorded as
    missing.
    """
    check_on_bad_record(on_bad_record)
    if split not in _XLSUM_FILE_SPLITS:
        raise ValueError(f"split must be one of {sorted(_XLSUM_FILE_SPLITS)}, got {split!r}")
    requested = _requested(languages)
    local = _local_path(source)
    collector = _Collector(
        task="summarization",
        languages=requested,
        on_bad_record=on_bad_record,
        max_bad_fraction=max_bad_fraction,
        require_target=True,
    )
    label, extract = _column_label(columns), _table_columns(columns, "xlsum")
    for language in requested:
        folder = XLSUM_CONFIGS.get(language)
        if folder is None:
            continue
        if local is not None:
            path = local / f"{folder}_{_XLSUM_FILE_SPLITS[split]}.jsonl"
            if not path.is_file():
                continue
            table = _load_local_jsonl(path, collector.bad, cache_dir)
        else:
            table = _load_hub(str(source), folder, split, cache_dir)
        table.language = language
        collector.read(table, columns, label, extract)
    report = {"source": "xlsum", **_origin(source, local, split=split)}
    return collector.finish(
        report,
        notes=[
            "XL-Sum schema (id, url, title, summary, text) and file names unverified here.",
        ],
    )


# ---------------------------------------------------------------------------------------------
# Instruction following: ShareGPT chats, Aya, Aya Dolly200, IFEval-format prompts


def load_sharegpt(
    source: str | Path,
    languages: Sequence[str],
    *,
    language: str | None = None,
    split: str = "train",
    columns: ColumnMap = SHAREGPT_COLUMNS,
    on_bad_record: OnBadRecord = "error",
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    cache_dir: str | Path | None = None,
) -> LoadedData:
    """ShareGPT-style chats, the instruction-following training data: first exchange of each chat.

    Records hold ``conversations: [{"from": "human"|"gpt", "value": ...}, ...]``; the first human
    turn is the input and the first gpt turn after it the target (other roles, e.g. "system", are
    skipped; later turns are dropped, since the frame holds single-turn pairs). Both
    ``columns.input`` and ``columns.target`` name the conversations column. The language is the
    record's ``language`` field, or ``language`` for every record when the caller gives one (the
    paper's translated ShareGPT comes one file per language). Schema unverified here beyond the
    common ShareGPT layout; local files must be JSON Lines.
    """
    check_on_bad_record(on_bad_record)
    requested = _requested(languages)
    fixed = None if language is None else get_language(language).code
    if fixed is not None:
        columns = ColumnMap(**{**asdict(columns), "language": None})
    local = _local_path(source)

    def first_exchange(row: Mapping[str, Any], table: _Table, position: int) -> _Fields:
        turns = row.get(columns.input)
        if not isinstance(turns, list):
            raise _RecordError(f"{columns.input!r} must be a list of turns")
        prompt = reply = None
        for turn in turns:
            if not isinstance(turn, Mapping) or not isinstance(turn.get("value"), str):
                raise _RecordError("each turn must be an object with a string 'value'")
            if turn.get("from") == "human" and prompt is None:
                prompt = turn["value"]
            elif turn.get("from") == "gpt" and prompt is not None:
                reply = turn["value"]
                break
        if not prompt or not prompt.strip():
            raise _RecordError("no human turn with text")
        if reply is None:
            raise _RecordError("no gpt turn after the first human turn")
        return _Fields(
            item_id=_item_id(row, columns.item_id, "sharegpt", position), input=prompt, target=reply, answer=math.nan
        )

    collector = _Collector(
        task="instruction_following",
        languages=requested,
        on_bad_record=on_bad_record,
        max_bad_fraction=max_bad_fraction,
        require_target=True,
    )
    if local is not None:
        table = _load_local_jsonl(local, collector.bad, cache_dir)
    else:
        table = _load_hub(str(source), None, split, cache_dir)
    table.language = fixed
    collector.read(table, columns, _column_label(columns), first_exchange)
    report = {"source": "sharegpt", **_origin(source, local, split=split, fixed_language=fixed)}
    return collector.finish(
        report,
        notes=[
            "Only the first human/gpt exchange of each conversation is kept.",
        ],
    )


def load_aya(
    source: str | Path,
    languages: Sequence[str],
    split: str,
    *,
    columns: ColumnMap = AYA_COLUMNS,
    on_bad_record: OnBadRecord = "error",
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    cache_dir: str | Path | None = None,
) -> LoadedData:
    """The Aya Dataset (Singh et al. 2024): human-written prompt/completion pairs in 65 languages.

    Hub id ``CohereForAI/aya_dataset`` (splits train, test) or a local JSON Lines file; fields
    inputs, targets, language (name), language_code (ISO 639-3), annotation_type, user_id (from
    the dataset card; schema unverified here). The language is read from ``language_code``;
    labels that are not registry languages (dialects such as "ary") are counted in the report's
    ``unmapped_language_labels``. There is no id column, so ids are positions in the split.
    """
    check_on_bad_record(on_bad_record)
    requested = _requested(languages)
    local = _local_path(source)
    collector = _Collector(
        task="instruction_following",
        languages=requested,
        on_bad_record=on_bad_record,
        max_bad_fraction=max_bad_fraction,
        require_target=True,
    )
    if local is not None:
        table = _load_local_jsonl(local, collector.bad, cache_dir)
    else:
        table = _load_hub(str(source), None, split, cache_dir)
    collector.read(table, columns, _column_label(columns), _table_columns(columns, f"aya-{split}"))
    report = {"source": "aya", **_origin(source, local, split=split)}
    return collector.finish(
        report,
        notes=[
            "Aya schema from the dataset card, unverified here; item ids are record positions.",
        ],
    )


def load_aya_dolly(
    source: str | Path,
    languages: Sequence[str],
    *,
    config: str = "dolly_machine_translated",
    split: str = "test",
    columns: ColumnMap = AYA_DOLLY_COLUMNS,
    on_bad_record: OnBadRecord = "error",
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    cache_dir: str | Path | None = None,
) -> LoadedData:
    """Aya Dolly200, the instruction-following evaluation prompts (Aya Evaluation Suite).

    Hub id ``CohereForAI/aya_evaluation_suite`` with ``config`` ``dolly_machine_translated`` (200
    prompts NLLB-translated into 101 languages) or ``dolly_human_edited`` (6 languages), split
    ``test``; or a local JSON Lines file. Fields id, inputs, targets, language, script (from the
    dataset card; schema partly unverified here). ``language`` may be a full name or an ISO 639-3
    code (both are mapped); ``script`` keeps Traditional Chinese ("Hant") out of zh. ``id`` is
    shared by the translations of one prompt.
    """
    check_on_bad_record(on_bad_record)
    requested = _requested(languages)
    local = _local_path(source)
    collector = _Collector(
        task="instruction_following",
        languages=requested,
        on_bad_record=on_bad_record,
        max_bad_fraction=max_bad_fraction,
        require_target=False,
    )
    if local is not None:
        table = _load_local_jsonl(local, collector.bad, cache_dir)
    else:
        table = _load_hub(str(source), config, split, cache_dir)
    collector.read(table, columns, _column_label(columns), _table_columns(columns, f"aya_dolly-{config}"))
    report = {"source": "aya_dolly", **_origin(source, local, split=split, config=None if local else config)}
    return collector.finish(
        report,
        notes=[
            "Aya Dolly200 schema (id, inputs, targets, language, script) partly unverified here.",
        ],
    )


def load_ifeval_prompts(
    files: Mapping[str, str | Path],
    *,
    languages: Sequence[str] | None = None,
    on_bad_record: OnBadRecord = "error",
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
) -> LoadedData:
    """IFEval-format prompt files, one per language (Marco-Bench-MIF, M-IFEval, google IFEval).

    ``files`` maps an ISO code to a JSONL file (``{"es": ".../es_local.jsonl"}``); a named file that
    does not exist raises. ``languages`` (default: those of ``files``) are the languages asked
    for: one without a file is recorded in ``missing_languages``. Records are read by
    :func:`cltbook.scoring.ifeval.load_ifeval_jsonl` (verified on shared/reference), so the
    evaluator and this frame see the same prompts; ``target`` is empty and the instructions stay
    in ``records`` by (language, item id), for the checker; each file is parsed once. Item ``ifeval-<key>``: keys are
    parallel across Marco-Bench-MIF files, while M-IFEval's es/fr/ja keys are their own numbering.
    """
    check_on_bad_record(on_bad_record)
    requested = _requested(list(files) if languages is None else languages)
    unasked = sorted(set(_requested(list(files))) - set(requested))
    if unasked:
        raise ValueError(f"files named for {unasked}, which are not among languages {list(requested)}")
    collector = _Collector(
        task="instruction_following",
        languages=requested,
        on_bad_record=on_bad_record,
        max_bad_fraction=max_bad_fraction,
        require_target=False,
    )
    by_item: dict[tuple[str, str], IFEvalRecord] = {}
    for language in requested:
        if language not in files:
            continue
        path = Path(files[language])
        _check_utf8(path)  # the IFEval reader has no line number for a decoding error
        try:
            records, load_report = load_ifeval_jsonl(path, on_bad_record, max_bad_fraction)
        except MalformedIFEvalFile as error:
            raise DataFileError(str(error)) from None
        collector.bad.records.extend(load_report.bad_lines)
        by_item.update({(language, f"ifeval-{record.key}"): record for record in records})
        dataset = datasets.Dataset.from_list([{"key": str(r.key), "prompt": r.prompt} for r in records])
        table = _Table(dataset=dataset, name=str(path), language=language)
        columns = ColumnMap(input="prompt", item_id="key")
        collector.read(table, columns, _column_label(columns), _ifeval_fields)
    report = {
        "source": "ifeval",
        "hub_id": None,
        "path": None,
        "files": {lang: str(files[lang]) for lang in requested if lang in files},
    }
    loaded = collector.finish(
        report,
        notes=["Instruction lists and kwargs are not in the frame but in the records, for the checker."],
    )
    return replace(loaded, records=by_item)


def _ifeval_fields(row: Mapping[str, Any], table: _Table, position: int) -> _Fields:
    return _Fields(
        item_id=f"ifeval-{row['key']}", target="", answer=math.nan, input=_text(row, "prompt", "prompt", required=True)
    )


# ---------------------------------------------------------------------------------------------
# Manifests


def manifest(frame: pd.DataFrame) -> pd.DataFrame:
    """Which items a frame holds: task, language, item_id, in the frame's order."""
    return frame.loc[:, ["task", "language", "item_id"]].reset_index(drop=True)
