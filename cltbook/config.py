"""Frozen, validated run and study configuration.

A YAML recipe is nothing but a serialized dataclass: YAML keys equal dataclass fields equal notebook
parameters. Everything a run does is decided by one `RunConfig`; a study is a base config plus a grid
of dotted-path overrides, expanded and validated whole before anything runs.

Every error names the field path and the offending value (`mixture.n_per_language: must be >= 0,
got -5`), and unknown keys are errors with a spelling hint — a silently ignored key is a silently
wrong experiment.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from cltbook.errors import ConfigError
from cltbook.languages import UnknownLanguageError, get_language
from cltbook.tasks import SOURCE_TASKS, TASKS
from cltbook.yamlfile import parse_plain_yaml, read_plain_yaml

# Bump by hand whenever a change to the code changes what a run with the same config produces
# (data generation, training loop, metrics). It is part of every run id, so old results are not
# silently mixed with new ones; the git commit goes to provenance instead, never into the hash.
CACHE_VERSION = 2

# augmentation: anchor set + n per seen language (the paper); substitution: a fixed total in which
# English examples are replaced by multilingual ones; none: the base model, not fine-tuned.
MIXTURE_DESIGNS = ("augmentation", "substitution", "none")
CHECKPOINT_SELECTION = ("best_validation", "last")
PROMPT_FORMATS = ("plain", "chat")
DTYPES = ("auto", "float32", "bfloat16", "float16")
# How attention is computed (transformers' attn_implementation); auto: the library's choice (sdpa).
ATTENTION = ("auto", "eager", "sdpa", "flash_attention_2")
TRAINING_METHODS = ("full", "lora")
BACKENDS = ("torch", "trainer", "unsloth")
SHARDING_STRATEGIES = ("none", "fsdp")
DATA_SOURCES = ("world", "real")
BAD_RECORD_POLICIES = ("error", "skip_and_report")


# --------------------------------------------------------------------------------------------
# The parts of a run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSize:
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int


# Base model shapes. tiny, small and medium span an order of magnitude of non-embedding
# parameters (0.36M, 0.85M, 3.6M; cltbook.pipeline.models.parameter_counts); micro (0.1M, two layers) is
# for tests and smoke runs only: too shallow to learn 2-3-step arithmetic. large (14M) is 4x
# medium again, for a GPU (scripts/gpu_world.sh). Kept here so validating a study needs no torch.
MODEL_SIZES: dict[str, ModelSize] = {
    "micro": ModelSize(hidden_size=64, num_layers=2, num_heads=4, intermediate_size=192),
    "tiny": ModelSize(hidden_size=96, num_layers=3, num_heads=4, intermediate_size=288),
    "small": ModelSize(hidden_size=128, num_layers=4, num_heads=4, intermediate_size=384),
    "medium": ModelSize(hidden_size=224, num_layers=6, num_heads=7, intermediate_size=608),
    "large": ModelSize(hidden_size=384, num_layers=8, num_heads=6, intermediate_size=1024),
}


# The world's quantities are whole numbers from 2 (no singular nouns) to 99 (two digits).
MIN_QUANTITY = 2
MAX_QUANTITY = 99
# Focal stories of summarization and instruction following start above every math start, within
# this span (cltbook.world.summarization), so corpus stories never open like them.
STORY_START_SPAN = 30
MAX_STORY_START = 80  # the highest story start leaves room for the events that follow
# Fine-tuning mixtures draw from the first TRAIN_POOL_SIZE training items of a world task, whatever
# n is, so that mixtures nest; the pretraining corpus's task documents come from the items after.
TRAIN_POOL_SIZE = 6000
# The pretraining corpus is guarded against the openings of this many evaluation items per task
# (cltbook.world.corpus), so no evaluation set may be larger.
MAX_EVAL_ITEMS = 1000
MARKER_STYLES = ("shared", "native")
# The world's document shares: cross-lingual anchors, and the task documents of each task.
ANCHOR_SHARES = ("parallel_share", "code_switch_share", "glossary_share")
TASK_SHARES = {
    "math_reasoning": "math_task_share",
    "summarization": "summarization_task_share",
    "instruction_following": "instruction_task_share",
}


@dataclass(frozen=True)
class WorldConfig:
    """The generated miniature world: its seed, its tasks' difficulty and its pretraining corpus.

    Every field is part of the base model's cache key: changing one builds another world.
    """

    seed: int = 0
    corpus_documents: int = 30_000
    # Approximate share of corpus documents per language; None means the world's default mix.
    language_shares: dict[str, float] | None = None
    # Cross-lingual anchors, as shares of documents: parallel (English, then the same story in
    # another language), code-switched (one story, each sentence in English or another language)
    # and glossaries ("apples = manzanas"). See cltbook.world.corpus.
    parallel_share: float = 0.05
    code_switch_share: float = 0.0
    glossary_share: float = 0.0
    vocab_size: int = 1024
    # Numbers of math problems and of the corpus's stories: a start in [2, max_start], steps
    # adding or taking [2, max_amount], (min, max) steps per problem. Small numbers keep every
    # worked equation learnable by the smallest model, so what differs between languages is the
    # language, not the arithmetic.
    max_start: int = 20
    max_amount: int = 9
    math_steps: tuple[int, ...] = (2, 3)
    # Summarization and instruction-following stories: (min, max) distractor sentences.
    story_distractors: tuple[int, ...] = (1, 3)
    # Shares of corpus documents that show a task done (a question with its worked answer, a story
    # with its summary, an instruction with its response), in every language by the language
    # shares: the skill is in pretraining, and fine-tuning elicits it. See cltbook.world.corpus.
    # Story tasks get a small share: with 10% each, the tiny model never learned in 700
    # pretraining steps to read a problem's numbers (English math 0.12 after English-only
    # fine-tuning, one seed; 0.16 with math at 25% and 5% each); with 3% each, English 0.91 and
    # Spanish 0.34. With 1400 steps, 10% each works too (English 0.98), at twice the cost.
    math_task_share: float = 0.15
    summarization_task_share: float = 0.03
    instruction_task_share: float = 0.03
    # How prompts mark the question and the answer, in the corpus and in fine-tuning alike:
    # "shared" (Q: / A: in every language) or "native" (each language's own labels, as MGSM).
    markers: str = "shared"


@dataclass(frozen=True)
class BaseModelConfig:
    """The base model fine-tuning starts from.

    `source: world` pretrains a small Llama from scratch on the miniature world (the `size` and
    `pretrain_*` fields apply); anything else is a Hugging Face causal LM, by local folder or hub
    id, loaded from safetensors weights only.
    """

    source: str = "world"
    # plain: the prompt text as is (base checkpoints); chat: through the tokenizer's chat template.
    prompt_format: str = "plain"
    # auto: bfloat16 on a GPU, float32 on the CPU.
    dtype: str = "auto"
    # auto, eager, sdpa or flash_attention_2 (a CUDA GPU and the flash-attn package): the kernel,
    # not the computation (the same to float rounding), so it is not part of the run's id.
    # flash_attention_2 is what makes training.packing pay off: its variable-length kernel skips
    # the positions that padding would have filled.
    attention: str = "auto"
    trust_remote_code: bool = False
    size: str = "small"
    pretrain_steps: int = 1000
    pretrain_batch_size: int = 32
    pretrain_seq_len: int = 128
    pretrain_learning_rate: float = 3e-3
    seed: int = 0


@dataclass(frozen=True)
class MixtureConfig:
    """The fine-tuning data per task (every count is examples per task; see MIXTURE_DESIGNS).

    augmentation: ``anchor_examples`` in the anchor language plus ``n_per_language`` in each seen
    language. substitution: ``total_examples`` in all, of which ``multilingual_per_language`` in
    each seen language and the rest in the anchor language. none: no fine-tuning (the base model
    is evaluated, with ``data.few_shot`` in-language exemplars in each prompt).
    """

    design: str = "augmentation"
    anchor_examples: int = 1000
    n_per_language: int = 0
    total_examples: int = 0
    multilingual_per_language: int = 0
    # True: every language draws the same underlying items (translations of one another).
    parallel: bool = False


@dataclass(frozen=True)
class DistributedConfig:
    """How one run's fine-tuning is spread over processes: ``none`` (this process) or ``fsdp``
    (full sharding of parameters, gradients and optimizer state over ``processes`` processes, one
    per GPU, or CPU processes talking over gloo). The global batch stays ``training.batch_size``,
    each process taking an equal share (in ``accumulation`` micro-batches), so this changes how a
    run executes, not what it computes (to float rounding): it is not part of the run's id."""

    strategy: str = "none"
    processes: int = 1
    # Micro-batches per process per optimizer step: the global batch training.batch_size is
    # processes x accumulation x the batch one process computes at a time.
    accumulation: int = 1


@dataclass(frozen=True)
class TrainingConfig:
    """Supervised fine-tuning with loss on the answer only.

    The budget is a number of optimizer steps, not epochs, so that a larger mixture is not also
    more compute; the checkpoint is chosen by held-out validation loss, as the paper does.
    """

    max_steps: int = 400
    batch_size: int = 16
    learning_rate: float = 3e-4
    warmup_steps: int = 20
    eval_every: int = 50
    validation_per_language: int = 32
    select_checkpoint: str = "best_validation"
    # Stop before max_steps once the mean training loss over the last pass through the data (the
    # last ceil(examples / batch_size) steps) is below this value; null: always run max_steps.
    stop_at_train_loss: float | None = None
    # full: every weight is trained; lora: low-rank adapters (peft) on every linear layer.
    method: str = "full"
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    gradient_checkpointing: bool = False
    # torch: the plain loop of cltbook.pipeline.train; trainer: transformers' Trainer with
    # accelerate (cltbook.pipeline.hf_trainer), for real models; unsloth: its fused kernels (needs
    # CUDA and the [gpu] extra).
    backend: str = "torch"
    # trainer backend: padding-free packing, each batch one row of concatenated examples with
    # attention kept inside each example. The same loss as padded batches (to float rounding),
    # so, like `distributed`, it is not part of the run's id.
    packing: bool = False
    distributed: DistributedConfig = field(default_factory=DistributedConfig)


@dataclass(frozen=True)
class EvaluationConfig:
    """Greedy generation on parallel evaluation items in every language."""

    items_per_language: int = 100
    max_new_tokens: int = 64
    batch_size: int = 50


@dataclass(frozen=True)
class JudgeSettings:
    """Which judge rates instruction following: an OpenAI-compatible endpoint (`base_url`, its
    API key read at request time from the environment variable named `api_key_env`, so the key
    is never part of a config, record or notebook), or, with `base_url: null`, the chat model
    `model` (local folder or hub id) run here."""

    model: str = "gpt-4o"
    base_url: str | None = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"


@dataclass(frozen=True)
class SourceConfig:
    """One real dataset: which loader of cltbook.data.datasets reads it, and from where."""

    loader: str
    # A hub id, a local file, or a local folder (MGSM: mgsm_<lang>.tsv files).
    path: str
    split: str = "train"
    # Source column names, overriding the loader's defaults (keys: input, target, answer, item_id, language).
    columns: dict[str, str] | None = None
    # ifeval: the file of each language inside the `path` folder, where it is not <lang>.jsonl
    # (Marco-Bench-MIF: {zh: zh_local.jsonl}).
    files: dict[str, str] | None = None
    # Inputs longer than this many characters are cut (news articles for summarization).
    max_input_chars: int | None = None
    # Instruction-following evaluation by the switch-aware LLM judge (cltbook.scoring.judge); required
    # for every instruction-following evaluation source except ifeval (verifiable checks).
    judge: JudgeSettings | None = None


@dataclass(frozen=True)
class DataConfig:
    """Where task data comes from: the generated world, or real datasets per task."""

    source: str = "world"
    train: dict[str, SourceConfig] | None = None
    evaluation: dict[str, SourceConfig] | None = None
    # k-shot evaluation prompts: in the world, k training items told in the prompt's language;
    # for real data, MGSM's exemplars (a mgsm_exemplars.jsonl file or hub id).
    few_shot: int = 0
    exemplars: str | None = None
    on_bad_record: str = "error"
    max_bad_fraction: float = 0.01
    # Only for overfitting checks (can a model learn these very items?): lets evaluation items be
    # trained on. Recorded like every field, so no result can hide it.
    allow_eval_in_train: bool = False


@dataclass(frozen=True)
class RunConfig:
    """One setting: one fine-tune and its evaluation."""

    study: str = "smoke"
    tasks: tuple[str, ...] = ("math_reasoning",)
    anchor_language: str = "en"
    seen_languages: tuple[str, ...] = ("es", "fr", "ja", "zh")
    unseen_languages: tuple[str, ...] = ("ar", "ko", "pt")
    seed: int = 0
    data_seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    world: WorldConfig = field(default_factory=WorldConfig)
    base_model: BaseModelConfig = field(default_factory=BaseModelConfig)
    mixture: MixtureConfig = field(default_factory=MixtureConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    # ---- derived views (never stored, never parsed back) ----
    @property
    def setting(self) -> str:
        return "single" if len(self.tasks) == 1 else "multi"

    @property
    def evaluation_languages(self) -> tuple[str, ...]:
        return (self.anchor_language, *self.seen_languages, *self.unseen_languages)

    def language_counts(self) -> dict[str, int]:
        """Fine-tuning examples per language and task under this run's mixture design."""
        mixture, seen = self.mixture, self.seen_languages
        if mixture.design == "none":
            return {}
        if mixture.design == "substitution":
            per_language = mixture.multilingual_per_language
            anchor = mixture.total_examples - per_language * len(seen)
        else:
            per_language, anchor = mixture.n_per_language, mixture.anchor_examples
        return {self.anchor_language: anchor, **{code: per_language for code in seen}}

    def count_field(self, language: str) -> str:
        """The mixture field that sets the number of examples in ``language``."""
        anchor = language == self.anchor_language
        if self.mixture.design == "substitution":
            return "mixture.total_examples" if anchor else "mixture.multilingual_per_language"
        return "mixture.anchor_examples" if anchor else "mixture.n_per_language"

    @property
    def n_per_language(self) -> int:
        """Examples per seen language and task, whatever the design (0 for the base model)."""
        counts = self.language_counts()
        return counts[self.seen_languages[0]] if counts and self.seen_languages else 0

    @property
    def anchor_count(self) -> int:
        return self.language_counts().get(self.anchor_language, 0)

    def role(self, language: str) -> str:
        """anchor / seen / unseen, relative to this run's own language mix."""
        if language == self.anchor_language:
            return "anchor"
        if language in self.seen_languages:
            return "seen"
        if language in self.unseen_languages:
            return "unseen"
        raise ValueError(f"language {language!r} is not part of this run")

    @property
    def run_id(self) -> str:
        return run_id(self)

    @property
    def label(self) -> str:
        """A name for humans; derived, never parsed back."""
        design = "" if self.mixture.design == "augmentation" else f"{self.mixture.design}-"
        return (
            f"{'+'.join(self.tasks)}-{self.base_model.size}-{design}{''.join(self.seen_languages)}"
            f"-n{self.n_per_language}-seed{self.seed}"
        )

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


# --------------------------------------------------------------------------------------------
# Plain data <-> dataclasses, with type checking
# --------------------------------------------------------------------------------------------


def to_plain(obj: Any) -> Any:
    """A dataclass tree as JSON-native values (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, path: str) -> Any:
    """Check `value` against the annotation `tp`; return it in the dataclass's own form."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, path)
            except ConfigError as err:
                errors.append(err)
        raise errors[0]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a mapping of {tp.__name__} fields, got {value!r}")
        return from_dict(tp, value, path)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"expected a list, got {type(value).__name__} {value!r}")
        (item_type, _ellipsis) = typing.get_args(tp)
        return tuple(_coerce(v, item_type, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {type(value).__name__} {value!r}")
        (item_type,) = typing.get_args(tp)
        return [_coerce(v, item_type, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a mapping, got {type(value).__name__} {value!r}")
        key_type, value_type = typing.get_args(tp)
        return {_coerce(k, key_type, f"{path}"): _coerce(v, value_type, f"{path}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {type(value).__name__} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected an integer, got {type(value).__name__} {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = " (YAML reads it as text: write it as a plain number)" if _looks_numeric(value) else ""
            raise ConfigError(path, f"expected a number, got {type(value).__name__} {value!r}{hint}")
        if not math.isfinite(value):
            raise ConfigError(path, f"must be a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"{path}: unsupported annotation {_type_name(tp)}")


def _looks_numeric(value: Any) -> bool:
    """Text that Python would read as a number (a number written in quotes)."""
    if not isinstance(value, str):
        return False
    try:
        float(value.replace("_", ""))
    except ValueError:
        return False
    return True


def _unknown_key(path: str, key: str, known: list[str]) -> ConfigError:
    hint = difflib.get_close_matches(key, known, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(known)}"
    return ConfigError(f"{path}.{key}" if path else key, f"unknown key{suggestion}")


def from_dict(cls: type, data: dict[str, Any], path: str = "") -> Any:
    """Build dataclass `cls` from plain data, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    for key in data:
        if key not in known:
            raise _unknown_key(path, str(key), known)
    for f in fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in data:
            raise ConfigError(
                f"{path}.{f.name}" if path else f.name, f"is required: give the {cls.__name__} a {f.name}"
            )
    kwargs = {key: _coerce(value, hints[key], f"{path}.{key}" if path else key) for key, value in data.items()}
    return cls(**kwargs)


# --------------------------------------------------------------------------------------------
# Semantic validation
# --------------------------------------------------------------------------------------------


def _require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise ConfigError(path, message)


def _bounds(value: tuple[int, ...], low: int, high: int, path: str) -> None:
    _require(
        len(value) == 2 and low <= value[0] <= value[1] <= high,
        path,
        f"must be [min, max] with {low} <= min <= max <= {high}, got {list(value)}",
    )


def _validate_world_design(world: WorldConfig) -> None:
    """The tasks' numbers and the corpus's task documents (see WorldConfig)."""
    highest_start = MAX_STORY_START - STORY_START_SPAN
    _require(
        MIN_QUANTITY <= world.max_start <= highest_start,
        "world.max_start",
        f"must be in [{MIN_QUANTITY}, {highest_start}], got {world.max_start}",
    )
    _require(
        MIN_QUANTITY <= world.max_amount <= 30,
        "world.max_amount",
        f"must be in [{MIN_QUANTITY}, 30], got {world.max_amount}",
    )
    _bounds(world.math_steps, 1, 4, "world.math_steps")
    _bounds(world.story_distractors, 0, 8, "world.story_distractors")
    _choice(world.markers, MARKER_STYLES, "world.markers")
    shares = {name: getattr(world, name) for name in (*ANCHOR_SHARES, *TASK_SHARES.values())}
    for name, value in shares.items():
        _require(0 <= value <= 1, f"world.{name}", f"must be in [0, 1], got {value}")
    _require(
        sum(shares.values()) <= 1,
        "world.instruction_task_share",
        f"task documents and cross-lingual anchors take {sum(shares.values()):g} of the corpus, more than 1",
    )


def _validate_data(config: RunConfig) -> None:
    data = config.data
    _choice(data.source, DATA_SOURCES, "data.source")
    _choice(data.on_bad_record, BAD_RECORD_POLICIES, "data.on_bad_record")
    _require(
        0 <= data.max_bad_fraction <= 1, "data.max_bad_fraction", f"must be in [0, 1], got {data.max_bad_fraction}"
    )
    _require(data.few_shot >= 0, "data.few_shot", f"must be >= 0, got {data.few_shot}")
    if data.source == "world":
        _require(data.exemplars is None, "data.exemplars", "is only for data.source: real (the world draws its own)")
        for part in ("train", "evaluation"):
            _require(getattr(data, part) is None, f"data.{part}", "is only for data.source: real")
        return
    _require(
        data.few_shot == 0 or bool(data.exemplars),
        "data.exemplars",
        f"few_shot is {data.few_shot}: name the exemplars file or hub id",
    )
    for part in ("train", "evaluation"):
        sources = getattr(data, part) or {}
        for task in config.tasks:
            _require(task in sources, f"data.{part}", f"has no source for task {task!r}")
        for task, source in sources.items():
            _require(task in TASKS, f"data.{part}.{task}", f"unknown task {task!r}; known: {', '.join(TASKS)}")
            _choice(source.loader, tuple(SOURCE_TASKS), f"data.{part}.{task}.loader")
            _require(bool(source.path.strip()), f"data.{part}.{task}.path", "must name a hub id, file or folder")
            _validate_source(source, part, task)


def _validate_source(source: SourceConfig, part: str, task: str) -> None:
    where = f"data.{part}.{task}"
    _require(
        SOURCE_TASKS[source.loader] == task,
        f"{where}.loader",
        f"{source.loader!r} holds {SOURCE_TASKS[source.loader]} data, not {task}",
    )
    _require(
        not (part == "train" and source.loader == "ifeval"),
        f"{where}.loader",
        "'ifeval' files hold evaluation prompts without responses; train on sharegpt or aya",
    )
    _require(
        source.files is None or source.loader == "ifeval",
        f"{where}.files",
        f"is only for the ifeval loader, not {source.loader!r}",
    )
    for code in source.files or {}:
        _check_language(code, f"{where}.files.{code}", world=False)
    _require(
        source.max_input_chars is None or source.max_input_chars > 0,
        f"{where}.max_input_chars",
        f"must be > 0, got {source.max_input_chars}",
    )
    judged = part == "evaluation" and task == "instruction_following" and source.loader != "ifeval"
    if not judged:
        _require(
            source.judge is None,
            f"{where}.judge",
            "only instruction-following evaluation without verifiable checks is judged",
        )
        return
    _require(
        source.judge is not None,
        f"{where}.judge",
        f"{source.loader!r} prompts have no verifiable checks: name the judge (model, base_url, api_key_env)",
    )
    judge = source.judge
    _require(bool(judge.model.strip()), f"{where}.judge.model", "must name the judge model")
    _require(
        judge.base_url is None or judge.base_url.startswith(("http://", "https://")),
        f"{where}.judge.base_url",
        f"must be an http(s) URL or null (a local model), got {judge.base_url!r}",
    )
    # The message never repeats the value: a key pasted here by mistake must not reach a log.
    _require(
        judge.api_key_env.isidentifier(),
        f"{where}.judge.api_key_env",
        "must be the NAME of the environment variable that holds the key, not the key",
    )


def _choice(value: str, known: tuple[str, ...], path: str) -> None:
    _require(value in known, path, f"unknown choice {value!r}; known: {', '.join(known)}")


def _check_language(code: str, path: str, *, world: bool) -> None:
    try:
        language = get_language(code)
    except UnknownLanguageError as err:
        raise ConfigError(path, str(err)) from None
    if world and not language.world_supported:
        raise ConfigError(path, f"{code!r} is not one of the languages the miniature world supports")


def validate(config: RunConfig) -> RunConfig:
    """Reject contradictory or out-of-range values; return the config unchanged."""
    _require(bool(config.study.strip()), "study", "must not be empty")
    _require(len(config.tasks) > 0, "tasks", "must name at least one task")
    for i, task in enumerate(config.tasks):
        _require(task in TASKS, f"tasks[{i}]", f"unknown task {task!r}; known: {', '.join(TASKS)}")
    _require(len(set(config.tasks)) == len(config.tasks), "tasks", f"duplicated in {list(config.tasks)}")

    _validate_data(config)
    world_data = config.data.source == "world"
    _check_language(config.anchor_language, "anchor_language", world=world_data)
    for name in ("seen_languages", "unseen_languages"):
        codes = getattr(config, name)
        for i, code in enumerate(codes):
            _check_language(code, f"{name}[{i}]", world=world_data)
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        _require(not duplicates, name, f"lists {duplicates} more than once")
        _require(
            config.anchor_language not in codes,
            name,
            f"contains the anchor language {config.anchor_language!r}",
        )
    _require(
        len(config.seen_languages) > 0,
        "seen_languages",
        "is empty, got []: name at least one language (n_per_language counts examples per seen language)",
    )
    both = sorted(set(config.seen_languages) & set(config.unseen_languages))
    _require(not both, "unseen_languages", f"{both} also listed in seen_languages")

    for name in ("seed", "data_seed"):
        _require(getattr(config, name) >= 0, name, f"must be >= 0, got {getattr(config, name)}")

    world = config.world
    _require(world.corpus_documents > 0, "world.corpus_documents", f"must be > 0, got {world.corpus_documents}")
    _require(world.vocab_size >= 300, "world.vocab_size", f"must be >= 300, got {world.vocab_size}")
    _validate_world_design(world)
    if world.language_shares is not None:
        for code, share in world.language_shares.items():
            _check_language(code, f"world.language_shares.{code}", world=True)
            _require(share >= 0, f"world.language_shares.{code}", f"must be >= 0, got {share}")
        total = sum(world.language_shares.values())
        _require(abs(total - 1) < 1e-6, "world.language_shares", f"must sum to 1, got {total:g}")

    model = config.base_model
    _require(
        model.size in MODEL_SIZES,
        "base_model.size",
        f"unknown size {model.size!r}; known: {', '.join(MODEL_SIZES)}",
    )
    for name in ("pretrain_steps", "pretrain_batch_size", "pretrain_seq_len"):
        _require(getattr(model, name) > 0, f"base_model.{name}", f"must be > 0, got {getattr(model, name)}")
    _require(
        model.pretrain_learning_rate > 0,
        "base_model.pretrain_learning_rate",
        f"must be > 0, got {model.pretrain_learning_rate}",
    )
    _require(bool(model.source.strip()), "base_model.source", "must be 'world' or a model folder or hub id")
    _choice(model.prompt_format, PROMPT_FORMATS, "base_model.prompt_format")
    _choice(model.dtype, DTYPES, "base_model.dtype")
    _choice(model.attention, ATTENTION, "base_model.attention")

    mixture = config.mixture
    _require(
        mixture.design in MIXTURE_DESIGNS,
        "mixture.design",
        f"unknown design {mixture.design!r}; known: {', '.join(MIXTURE_DESIGNS)}",
    )
    for name in ("anchor_examples", "n_per_language", "total_examples", "multilingual_per_language"):
        value = getattr(mixture, name)
        _require(value >= 0, f"mixture.{name}", f"must be >= 0, got {value}")
    if mixture.design == "substitution":
        multilingual = mixture.multilingual_per_language * len(config.seen_languages)
        _require(mixture.total_examples > 0, "mixture.total_examples", "must be > 0 in the substitution design")
        _require(
            multilingual <= mixture.total_examples,
            "mixture.multilingual_per_language",
            f"{mixture.multilingual_per_language} x {len(config.seen_languages)} seen languages = "
            f"{multilingual} exceeds total_examples {mixture.total_examples}",
        )
    if mixture.design != "none" and world_data:
        for language, count in config.language_counts().items():
            path = config.count_field(language)
            _require(
                count <= TRAIN_POOL_SIZE,
                path,
                f"asks for {count} {language} examples per task but the world's training pool holds {TRAIN_POOL_SIZE}",
            )
    if mixture.design != "none":
        _require(
            sum(config.language_counts().values()) > 0,
            "mixture",
            f"the mixture is empty: no example in any language under design {mixture.design!r}",
        )

    training = config.training
    for name in ("max_steps", "batch_size", "eval_every", "validation_per_language"):
        _require(getattr(training, name) > 0, f"training.{name}", f"must be > 0, got {getattr(training, name)}")
    _require(training.warmup_steps >= 0, "training.warmup_steps", f"must be >= 0, got {training.warmup_steps}")
    _require(training.learning_rate > 0, "training.learning_rate", f"must be > 0, got {training.learning_rate}")
    _choice(training.select_checkpoint, CHECKPOINT_SELECTION, "training.select_checkpoint")
    if training.stop_at_train_loss is not None:
        _require(
            math.isfinite(training.stop_at_train_loss) and training.stop_at_train_loss > 0,
            "training.stop_at_train_loss",
            f"must be a finite number > 0 or null, got {training.stop_at_train_loss}",
        )
    _choice(training.method, TRAINING_METHODS, "training.method")
    _choice(training.backend, BACKENDS, "training.backend")
    _require(training.lora_rank > 0, "training.lora_rank", f"must be > 0, got {training.lora_rank}")
    _require(training.lora_alpha > 0, "training.lora_alpha", f"must be > 0, got {training.lora_alpha}")
    _require(0 <= training.lora_dropout < 1, "training.lora_dropout", f"must be in [0, 1), got {training.lora_dropout}")
    distributed = training.distributed
    _choice(distributed.strategy, SHARDING_STRATEGIES, "training.distributed.strategy")
    _require(distributed.processes >= 1, "training.distributed.processes", f"must be >= 1, got {distributed.processes}")
    _require(
        distributed.accumulation >= 1,
        "training.distributed.accumulation",
        f"must be >= 1, got {distributed.accumulation}",
    )
    parts = f"{distributed.processes} processes"
    if distributed.accumulation > 1:
        parts += f" x {distributed.accumulation} micro-batches"
    _require(
        training.batch_size % (distributed.processes * distributed.accumulation) == 0,
        "training.distributed.accumulation" if distributed.accumulation > 1 else "training.distributed.processes",
        f"the batch of {training.batch_size} must split evenly over {parts}",
    )
    _require(
        not training.packing or training.backend == "trainer",
        "training.packing",
        f"padding-free packing is done by the trainer backend, not {training.backend!r}",
    )
    if distributed.strategy == "none":
        _require(
            distributed.processes == 1,
            "training.distributed.processes",
            f"{distributed.processes} processes need a sharding strategy (training.distributed.strategy: fsdp)",
        )
    else:
        _require(
            training.method == "full" and training.backend in ("torch", "trainer"),
            "training.distributed.strategy",
            f"fsdp shards full fine-tuning with the torch or trainer backend, not method {training.method!r} "
            f"with backend {training.backend!r}",
        )

    evaluation = config.evaluation
    for name in ("items_per_language", "max_new_tokens", "batch_size"):
        _require(getattr(evaluation, name) > 0, f"evaluation.{name}", f"must be > 0, got {getattr(evaluation, name)}")

    _require(
        evaluation.items_per_language <= MAX_EVAL_ITEMS,
        "evaluation.items_per_language",
        f"the world holds {MAX_EVAL_ITEMS} evaluation items, got {evaluation.items_per_language}",
    )
    _check_limits(config)
    return config


# Upper bounds on the counts that decide how long a run takes or how much memory it asks for: each
# is far above any setting this project or the paper uses (the paper's largest: 8,192 tokens of
# context, a few thousand steps), so a value past it is a typo (10**12 steps) that would otherwise
# run for months or fail after hours. CLTBOOK_ALLOW_LARGE=1 lifts them for someone who means it.
LIMITS = {
    "world.corpus_documents": 10_000_000,
    "world.vocab_size": 1_000_000,
    "base_model.pretrain_steps": 10_000_000,
    "base_model.pretrain_batch_size": 65_536,
    "base_model.pretrain_seq_len": 1_048_576,
    "mixture.anchor_examples": 100_000_000,
    "mixture.n_per_language": 100_000_000,
    "mixture.total_examples": 100_000_000,
    "mixture.multilingual_per_language": 100_000_000,
    "training.max_steps": 10_000_000,
    "training.batch_size": 65_536,
    "training.distributed.processes": 65_536,
    "training.distributed.accumulation": 65_536,
    "training.warmup_steps": 10_000_000,
    "training.eval_every": 10_000_000,
    "training.validation_per_language": 1_000_000,
    "training.lora_rank": 65_536,
    "training.lora_alpha": 1_000_000,
    "evaluation.items_per_language": 1_000_000,
    "evaluation.max_new_tokens": 1_048_576,
    "evaluation.batch_size": 65_536,
    "data.few_shot": 64,
}
ALLOW_LARGE_VARIABLE = "CLTBOOK_ALLOW_LARGE"
SEED_LIMIT = 2**32 - 1  # numpy's and torch's seed range; not lifted


def _dotted(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


def _check_limits(config: RunConfig) -> None:
    for path in ("seed", "data_seed", "world.seed", "base_model.seed"):
        value = _dotted(config, path)
        _require(value <= SEED_LIMIT, path, f"must be <= {SEED_LIMIT:,} (the seed range), got {value:,}")
    if os.environ.get(ALLOW_LARGE_VARIABLE) == "1":
        return
    for path, limit in LIMITS.items():
        value = _dotted(config, path)
        _require(
            value <= limit,
            path,
            f"{value:,} is above the limit of {limit:,} that catches typos before they cost days; "
            f"set {ALLOW_LARGE_VARIABLE}=1 if you mean it",
        )


def config_from_parameters(namespace: dict[str, Any]) -> RunConfig:
    """The RunConfig of a notebook whose parameters are named exactly like its fields."""
    missing = [f.name for f in fields(RunConfig) if f.name not in namespace]
    if missing:
        raise ConfigError("", f"the notebook lacks parameters for {', '.join(missing)}")
    return run_config({f.name: namespace[f.name] for f in fields(RunConfig)})


def run_config(data: dict[str, Any]) -> RunConfig:
    """A validated RunConfig from plain data (missing fields take their defaults)."""
    return validate(from_dict(RunConfig, data))


# --------------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------------

# Labels that do not change what a run computes stay out of its identity, so that the same
# setting reached from two studies or two grid points is one run; so does how training is spread
# over processes (the same global batch, to float rounding; tests/test_sharded.py checks it).
_NOT_SEMANTIC = ("study",)


def semantic_dict(config: RunConfig) -> dict[str, Any]:
    data = config.to_dict()
    for key in _NOT_SEMANTIC:
        data.pop(key)
    data["training"].pop("distributed")  # how the batch is spread, not what it holds
    data["training"].pop("packing")  # how the batch is laid out, not what it holds
    data["base_model"].pop("attention")  # which kernel computes attention, not what it computes
    return data


def content_hash(data: Any, length: int = 12) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


# Bump when tokenizer training, the architecture mapping or the pretraining loop changes.
MODEL_CACHE_VERSION = 2

# The fields that decide what pretraining produces; how a run later loads or prompts the model
# (dtype, prompt format) does not change the weights, so it stays out of the cache key.
PRETRAINING_FIELDS = (
    "size",
    "pretrain_steps",
    "pretrain_batch_size",
    "pretrain_seq_len",
    "pretrain_learning_rate",
    "seed",
)


def base_model_key(world: WorldConfig, base_model: BaseModelConfig) -> str:
    """The cache key of a world base model: what decides its weights (world and pretraining)."""
    pretraining = {name: getattr(base_model, name) for name in PRETRAINING_FIELDS}
    return content_hash({"world": to_plain(world), "base_model": pretraining, "version": MODEL_CACHE_VERSION})


def run_id(config: RunConfig) -> str:
    """A content hash of the semantic config plus CACHE_VERSION; names the run folder."""
    return content_hash({"config": semantic_dict(config), "cache_version": CACHE_VERSION})


# --------------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyBlock:
    """One part of a study: overrides of the study's base and a grid of its own."""

    name: str
    description: str = ""
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyConfig:
    """A study: a base RunConfig (partial; defaults fill the rest) and a grid of overrides.

    `grid` maps dotted field paths to lists of values; the runs are their cartesian product. A key
    naming several paths ("seed,data_seed") varies them together, one list of values per entry.
    `blocks` adds further grids, each on top of the base with overrides of its own (e.g. extra
    seeds at a few points only); a setting reached by two blocks is one run.
    """

    name: str
    description: str = ""
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    blocks: list[StudyBlock] = field(default_factory=list)

    def expand(self) -> list[RunConfig]:
        return expand(self)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"grid.{dotted}", f"{part!r} is not a section")
    node[leaf] = value


def _check_grid_path(dotted: str) -> None:
    """A grid key must name a leaf field of RunConfig."""
    cls: Any = RunConfig
    walked = []
    for part in dotted.split("."):
        if not dataclasses.is_dataclass(cls):
            raise ConfigError(f"grid.{dotted}", f"{'.'.join(walked)!r} is not a section")
        known = [f.name for f in fields(cls)]
        if part not in known:
            raise _unknown_key("grid." + ".".join(walked) if walked else "grid", part, known)
        walked.append(part)
        cls = typing.get_type_hints(cls)[part]
    if dataclasses.is_dataclass(cls):
        raise ConfigError(f"grid.{dotted}", "names a whole section; grid keys name single fields")


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` laid over it, section by section."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _expand_grid(
    study_name: str, base: dict[str, Any], grid: dict[str, list[Any]], where: str, runs: dict[str, RunConfig]
) -> None:
    """The cartesian product of ``grid``. A key naming several paths ("seed,data_seed") varies
    them together: its values are lists with one entry per path."""
    for key, values in grid.items():
        paths = [p.strip() for p in key.split(",")]
        for dotted in paths:
            _check_grid_path(dotted)
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}grid.{key}", f"expected a non-empty list of values, got {values!r}")
        if len(paths) > 1:
            for i, value in enumerate(values):
                if not isinstance(value, list) or len(value) != len(paths):
                    raise ConfigError(
                        f"{where}grid.{key}[{i}]",
                        f"expected a list of {len(paths)} values (one per path), got {value!r}",
                    )
    keys = list(grid)
    for combination in itertools.product(*(grid[k] for k in keys)):
        data = copy.deepcopy(base)
        data["study"] = study_name
        for key, value in zip(keys, combination):
            paths = [p.strip() for p in key.split(",")]
            for dotted, one in zip(paths, value if len(paths) > 1 else [value]):
                _set_dotted(data, dotted, one)
        try:
            config = run_config(data)
        except ConfigError as err:
            settings = ", ".join(f"{k}={v!r}" for k, v in zip(keys, combination))
            context = f" (in {where.rstrip('.') or 'the run'}{' with ' + settings if settings else ''})"
            raise ConfigError(err.path, err.message + context) from None
        runs.setdefault(config.run_id, config)


def expand(study: StudyConfig) -> list[RunConfig]:
    """All runs of a study, validated; identical settings reached twice are one run."""
    if "study" in study.base:
        raise ConfigError("base.study", "is set from the study's name; remove it")
    runs: dict[str, RunConfig] = {}
    if study.grid or not study.blocks:
        _expand_grid(study.name, study.base, study.grid, "", runs)
    names = [block.name for block in study.blocks]
    for i, block in enumerate(study.blocks):
        if block.name in names[:i]:
            raise ConfigError(f"blocks[{i}].name", f"{block.name!r} names two blocks")
        if "study" in block.base:
            raise ConfigError(f"blocks[{i}].base.study", "is set from the study's name; remove it")
        _expand_grid(study.name, _merged(study.base, block.base), block.grid, f"blocks[{i}] ({block.name}).", runs)
    return list(runs.values())


def load_study(path: str | Path) -> StudyConfig:
    """Read and validate a study file; every run is expanded and checked before returning."""
    path = Path(path)
    return study_from_data(read_plain_yaml(path), path)


def overrides_study(name: str, overrides: list[str]) -> tuple[StudyConfig, str]:
    """A one-run study from ``key=value`` overrides of RunConfig's defaults (``cltbook once``),
    and its text as a study file. Values are YAML (``1e-4``, ``[es, fr]``, ``true``); the text
    goes through the same reader and validation as a study file, so it is refused the same way."""
    tree: dict[str, Any] = {}
    for i, item in enumerate(overrides):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {i + 1}", f"expected key=value (e.g. training.max_steps=100), got {item!r}")
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(key, f"{part!r} is given a value and also used as a section")
        if leaf in node:
            raise ConfigError(key, "is given twice; give it once")
        node[leaf] = value.strip()

    def lines(node: dict[str, Any], depth: int) -> list[str]:
        out = []
        for key, value in node.items():
            if isinstance(value, dict):
                out += [f"{'  ' * depth}{key}:", *lines(value, depth + 1)]
            else:
                out.append(f"{'  ' * depth}{key}: {value}")
        return out

    text = "\n".join([f"name: {name}", "base:" if tree else "base: {}", *lines(tree, 1)]) + "\n"
    return study_from_data(parse_plain_yaml(text, "the command line"), "the command line"), text


def study_from_data(data: Any, origin: str | Path) -> StudyConfig:
    """Validate a study read from ``origin``: every run is expanded and checked."""
    if not isinstance(data, dict):
        raise ConfigError("", f"{origin} must hold a mapping with 'name', 'base' and 'grid'")
    study = from_dict(StudyConfig, data)
    if not study.name or not all(c.isalnum() or c in "-_" for c in study.name):
        raise ConfigError("name", f"must be letters, digits, '-' or '_', got {study.name!r}")
    study.expand()
    return study


def dump_yaml(config: RunConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
