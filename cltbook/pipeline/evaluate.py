"""Batched greedy generation and scoring, one row per evaluated item.

World outputs are scored by their task (:mod:`cltbook.world.tasks`), switch-aware: an output not in
the prompt's language fails the headline metric. Math answers are read the MGSM way, twice:
strictly (the number after the prompt language's answer phrase) and flexibly (the last number in
the output); a correct number behind the wrong language's answer phrase passes the flexible rule
only, so the gap between the two shows language confusion.

Real outputs (:mod:`cltbook.data.real`) are scored the same way, with real-text components: the
language of an output is identified by lingua among the run's languages
(:class:`cltbook.scoring.langid.LanguageIdentifier`; ``undetermined`` counts as a mismatch), and every
task reports ``language_match`` and ``language_undetermined``. Per task:

- math_reasoning: :func:`cltbook.scoring.extract.math_scores` and ``accuracy_strict_switch_aware``;
- summarization: ``rougeL_xlsum`` (:func:`cltbook.scoring.rouge.rouge_l_xlsum`, XL-Sum's tokenisation)
  and ``rougeL_xlsum_switch_aware`` (0 off-language);
- instruction_following with IFEval records: the world's four names, ``prompt_strict`` and
  ``instruction_strict`` (0 off-language) and their ``*_any_language`` variants, from
  :func:`cltbook.scoring.ifeval.score_ifeval`; an undecidable instruction leaves the value NaN (not
  counted) rather than guessing;
- instruction_following with a judge: ``judge_score`` = (rating - 1) / 4 from the switch-aware
  1-5 judge (:mod:`cltbook.scoring.judge`; its replies cached under ``<cache_dir>/judge``), NaN when the
  reply holds no rating, and ``judge_unparsed`` (1 for such a reply), so failures are counted,
  never scored.

With a single evaluation language there is nothing to choose among: no language metrics and no
switch-aware variants.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
import torch

from cltbook.example import Example
from cltbook.pipeline.models import load_model, prompt_text
from cltbook.scoring.extract import extract_flexible, extract_strict, math_scores
from cltbook.scoring.ifeval import score_ifeval
from cltbook.scoring.judge import (
    JUDGE_MAX_TOKENS,
    JUDGE_PROMPT_TEMPLATE,
    JUDGE_SYSTEM_PROMPT,
    JudgeClient,
    JudgeConfig,
    JudgeItem,
    LocalModelJudge,
)
from cltbook.scoring.langid import DEFAULT_MIN_CONFIDENCE, UNDETERMINED, LanguageIdentifier, lingua_supports
from cltbook.scoring.rouge import METRIC_NAME as ROUGE_METRIC
from cltbook.scoring.rouge import rouge_l_xlsum, scorer_provenance
from cltbook.world import TASKS


@torch.no_grad()
def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    prompt_format: str = "plain",
    progress=None,
) -> list[str]:
    """Greedy completions of `prompts`, batched with left padding and the KV cache."""
    tokenizer.padding_side = "left"
    outputs: list[str] = []
    for start in range(0, len(prompts), batch_size):
        chunk = [prompt_text(tokenizer, p, prompt_format) for p in prompts[start : start + batch_size]]
        batch = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        generated = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        new_tokens = generated[:, batch["input_ids"].shape[1] :]
        outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        if progress is not None:
            progress(len(outputs), len(prompts))
    return outputs


# Columns of a predictions table that are not per-item metric values.
INFO_COLUMNS = (
    "task",
    "language",
    "item_id",
    "prompt",
    "output",
    "target",
    "gold",
    "extracted_strict",
    "extracted_flexible",
)


RealScorer = Callable[[Example, str, "str | None", Path], dict[str, float]]
"""How one real output of a task is scored: (example, output, the output's identified language or
None when the run has a single language, the cache folder) -> metric values. The language metrics
are added by :func:`score`."""

REAL_SCORERS: dict[str, RealScorer] = {}


def register_real_scorer(task: str, scorer: RealScorer) -> RealScorer:
    """Score real ``task`` outputs with ``scorer`` (one per task; see "Extending cltbook")."""
    if REAL_SCORERS.get(task, scorer) is not scorer:
        raise ValueError(f"real outputs of {task!r} already have a scorer")
    REAL_SCORERS[task] = scorer
    return scorer


def score(example: Example, output: str, cache_dir: str | Path = ".cache") -> dict[str, float]:
    """One output's metric values (each in [0, 1], NaN where undecidable): world examples by
    their task's switch-aware scorer (:data:`cltbook.world.TASKS`), real ones by their task's
    :data:`REAL_SCORERS` entry, as the module docstring says. ``cache_dir`` holds the judge's
    replies."""
    if example.source == "world":
        return TASKS[example.task].score(example, output)
    scorer = REAL_SCORERS.get(example.task)
    if scorer is None:
        raise ValueError(f"{example.item_id}: no scorer for real {example.task!r} outputs (register_real_scorer)")
    languages = example.checks[0].languages
    found = _identifier(tuple(sorted(languages))).identify(output) if len(languages) > 1 else None
    language = (
        {}
        if found is None
        else {"language_match": float(found == example.language), "language_undetermined": float(found == UNDETERMINED)}
    )
    return {**scorer(example, output, found, Path(cache_dir)), **language}


def _real_math(example: Example, output: str, found: str | None, cache_dir: Path) -> dict[str, float]:
    scores = math_scores(output, example.language, example.answer)
    if found is not None:
        scores["accuracy_strict_switch_aware"] = float(scores["accuracy_strict"] and found == example.language)
    return scores


def _real_summary(example: Example, output: str, found: str | None, cache_dir: Path) -> dict[str, float]:
    rouge = rouge_l_xlsum(example.completion.strip(), output.strip(), example.language)
    switch = {} if found is None else {f"{ROUGE_METRIC}_switch_aware": rouge if found == example.language else 0.0}
    return {ROUGE_METRIC: rouge, **switch}


def _real_instructions(example: Example, output: str, found: str | None, cache_dir: Path) -> dict[str, float]:
    """IFEval's checks where the item carries its record, else the run's judge."""
    (scoring,) = example.checks
    if scoring.ifeval is not None:
        return _ifeval_scores(scoring, output, found is None or found == example.language)
    if scoring.judge is not None:
        return _judge_scores(scoring.judge, example, output, cache_dir)
    raise ValueError(f"{example.item_id}: real instruction following needs IFEval records or a judge")


@functools.lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]):
    return LanguageIdentifier(languages)


def _ifeval_scores(scoring, output: str, match: bool) -> dict[str, float]:
    """IFEval's strict outcomes of one response; its language checks use lingua, offered the
    run's languages plus any the record asks a response to be written in."""
    record = scoring.ifeval
    asked = {kwargs["language"].split("-")[0].lower() for kwargs in record.kwargs if "language" in kwargs}
    identifier = _identifier(tuple(sorted(set(scoring.languages) | {code for code in asked if lingua_supports(code)})))

    def identify(text: str) -> str | None:
        found = identifier.identify(text)
        return None if found == UNDETERMINED else found

    row = score_ifeval([record], [output], identify=identify).iloc[0]
    decided = [outcome for outcome in row.strict if outcome is not None]
    share = sum(decided) / len(decided) if decided else math.nan
    prompt = math.nan if pd.isna(row.prompt_strict) else float(row.prompt_strict)
    return {
        "prompt_strict": prompt if match else 0.0,
        "instruction_strict": share if match else 0.0,
        "prompt_strict_any_language": prompt,
        "instruction_strict_any_language": share,
    }


def _judge_scores(settings, example: Example, output: str, cache_dir: str | Path) -> dict[str, float]:
    [result] = _judge(settings, str(Path(cache_dir) / "judge")).judge(
        [JudgeItem(instruction=example.prompt, response=output, language=example.language)]
    )
    return {
        "judge_score": math.nan if result.rating is None else (result.rating - 1) / 4,
        "judge_unparsed": float(result.rating is None),
    }


@functools.lru_cache(maxsize=4)
def _judge(settings, cache_dir: str):
    """The judge a JudgeSettings names: an OpenAI-compatible endpoint or a local chat model."""
    if settings.base_url is not None:
        config = JudgeConfig(model=settings.model, base_url=settings.base_url, api_key_env=settings.api_key_env)
        return JudgeClient(config, cache_dir=cache_dir)
    return LocalModelJudge(local_chat_generate(settings.model), model=settings.model, cache_dir=cache_dir)


def local_chat_generate(source: str, max_new_tokens: int | None = None):
    """``generate(messages) -> reply`` with a chat model loaded here (greedy, its chat template);
    the model is loaded on the first call, so a fully cached judge never loads it."""
    loaded = []

    def generate(messages) -> str:
        if not loaded:
            loaded.extend(load_model(source))
        model, tokenizer = loaded
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(f"judge model {source!r} has no chat template")
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(model.device)
        with torch.no_grad():
            out = model.generate(
                **ids,
                max_new_tokens=max_new_tokens or JUDGE_MAX_TOKENS,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        return tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)

    return generate


def scoring_provenance(config) -> dict:
    """What scored a real run's outputs, for its record: the language identifier, XL-Sum ROUGE's
    segmenters, stemmers, package versions and deviations per language, and the judge (its
    model, endpoint and the NAME of its key's variable) or the IFEval checker. Empty for the
    world, whose scorers are part of the code version."""
    if config.data.source == "world":
        return {}
    languages = config.evaluation_languages
    out: dict = {
        "language_id": {
            "package": "lingua-language-detector",
            "version": version("lingua-language-detector"),
            "languages": list(languages),
            "min_confidence": DEFAULT_MIN_CONFIDENCE,
        }
        if len(languages) > 1
        else None
    }
    if "summarization" in config.tasks:
        out["summarization"] = {code: scorer_provenance(code) for code in languages}
    if "instruction_following" in config.tasks:
        judge = config.data.evaluation["instruction_following"].judge
        out["instruction_following"] = (
            {"scorer": "cltbook.scoring.ifeval (verifiable instructions, strict)"}
            if judge is None
            else {
                "scorer": "judge",
                "model": judge.model,
                "base_url": judge.base_url,
                "api_key_env": judge.api_key_env,
                "prompt_sha256": _judge_prompt_hash(),
            }
        )
    return out


def _judge_prompt_hash() -> str:
    return hashlib.sha256((JUDGE_SYSTEM_PROMPT + JUDGE_PROMPT_TEMPLATE).encode("utf-8")).hexdigest()


def score_outputs(
    examples: Sequence[Example], outputs: Sequence[str], cache_dir: str | Path = ".cache"
) -> pd.DataFrame:
    """Per-item predictions: the raw output, the gold answer or target, and one column per metric
    (math rows also keep both extracted numbers, for reading)."""
    rows = []
    for example, output in zip(examples, outputs, strict=True):
        row = {
            "task": example.task,
            "language": example.language,
            "item_id": example.item_id,
            "prompt": example.prompt,
            "output": output,
            "target": example.completion,
            "gold": example.answer,
        }
        if example.task == "math_reasoning":
            row["extracted_strict"] = extract_strict(output, example.language)
            row["extracted_flexible"] = extract_flexible(output, example.language)
        rows.append({**row, **score(example, output, cache_dir)})
    return pd.DataFrame(rows)


def evaluate(
    model,
    tokenizer,
    examples: Sequence[Example],
    max_new_tokens: int,
    batch_size: int,
    prompt_format: str = "plain",
    progress=None,
    cache_dir: str | Path = ".cache",
) -> tuple[pd.DataFrame, float]:
    """Generate for every evaluation example and score it; returns predictions and seconds."""
    started = time.perf_counter()
    outputs = generate(
        model,
        tokenizer,
        [ex.prompt for ex in examples],
        max_new_tokens,
        batch_size,
        prompt_format=prompt_format,
        progress=progress,
    )
    return score_outputs(examples, outputs, cache_dir), time.perf_counter() - started


def metric_columns(predictions: pd.DataFrame) -> list[str]:
    return [column for column in predictions.columns if column not in INFO_COLUMNS]


def language_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per task × language × metric (the mean of its per-item values), with the number
    of items behind it; metrics a task does not have are left out."""
    rows = []
    for (task, language), group in predictions.groupby(["task", "language"], sort=False):
        for metric in metric_columns(group):
            values = group[metric].dropna()
            if len(values):
                rows.append(
                    {
                        "task": task,
                        "language": language,
                        "metric": metric,
                        "value": float(values.astype(float).mean()),
                        "n_items": len(values),
                    }
                )
    return pd.DataFrame(rows, columns=["task", "language", "metric", "value", "n_items"])


register_real_scorer("math_reasoning", _real_math)
register_real_scorer("summarization", _real_summary)
register_real_scorer("instruction_following", _real_instructions)
