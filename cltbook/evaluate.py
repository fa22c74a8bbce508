"""Batched greedy generation and scoring, one row per evaluated item.

World outputs are scored by their task (:mod:`cltbook.world.tasks`), switch-aware: an output not in
the prompt's language fails the headline metric. Math answers are read the MGSM way, twice:
strictly (the number after the prompt language's answer phrase) and flexibly (the last number in
the output); a correct number behind the wrong language's answer phrase passes the flexible rule
only, so the gap between the two shows language confusion.
"""

from __future__ import annotations

import time
from typing import Sequence

import pandas as pd
import torch

from cltbook.example import Example
from cltbook.extract import extract_flexible, extract_strict, math_scores
from cltbook.models import prompt_text
from cltbook.world import TASKS


@torch.no_grad()
def generate(model, tokenizer, prompts: Sequence[str], max_new_tokens: int, batch_size: int,
             prompt_format: str = "plain", progress=None) -> list[str]:
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
INFO_COLUMNS = ("task", "language", "item_id", "prompt", "output", "target", "gold",
                "extracted_strict", "extracted_flexible")


def score(example: Example, output: str) -> dict[str, float]:
    """One output's metric values (each in [0, 1]): world examples by their task's switch-aware
    scorer (:data:`cltbook.world.TASKS`), real math by the shared MGSM extraction."""
    if example.source == "world":
        return TASKS[example.task].score(example, output)
    if example.task == "math_reasoning":
        return math_scores(output, example.language, example.answer)
    raise ValueError(f"no scorer for real {example.task!r} outputs")


def score_outputs(examples: Sequence[Example], outputs: Sequence[str]) -> pd.DataFrame:
    """Per-item predictions: the raw output, the gold answer or target, and one column per metric
    (math rows also keep both extracted numbers, for reading)."""
    rows = []
    for example, output in zip(examples, outputs, strict=True):
        row = {"task": example.task, "language": example.language, "item_id": example.item_id,
               "prompt": example.prompt, "output": output, "target": example.completion,
               "gold": example.answer}
        if example.task == "math_reasoning":
            row["extracted_strict"] = extract_strict(output, example.language)
            row["extracted_flexible"] = extract_flexible(output, example.language)
        rows.append({**row, **score(example, output)})
    return pd.DataFrame(rows)


def evaluate(model, tokenizer, examples: Sequence[Example], max_new_tokens: int, batch_size: int,
             prompt_format: str = "plain", progress=None) -> tuple[pd.DataFrame, float]:
    """Generate for every evaluation example and score it; returns predictions and seconds."""
    started = time.perf_counter()
    outputs = generate(model, tokenizer, [ex.prompt for ex in examples], max_new_tokens, batch_size,
                       prompt_format=prompt_format, progress=progress)
    return score_outputs(examples, outputs), time.perf_counter() - started


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
                rows.append({"task": task, "language": language, "metric": metric,
                             "value": float(values.astype(float).mean()), "n_items": len(values)})
    return pd.DataFrame(rows, columns=["task", "language", "metric", "value", "n_items"])
