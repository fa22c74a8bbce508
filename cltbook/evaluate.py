"""Batched greedy generation and scoring, one row per evaluated item.

Math answers are read the MGSM way, twice: strictly (the number after the prompt language's answer
phrase) and flexibly (the last number in the output). A correct number behind the wrong language's
answer phrase passes the flexible rule only, so the gap between the two shows language confusion.
"""

from __future__ import annotations

import time
from typing import Sequence

import pandas as pd
import torch

from cltbook.data import Example
from cltbook.extract import answers_match, extract_flexible, extract_strict
from cltbook.models import prompt_text


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


def score_math(examples: Sequence[Example], outputs: Sequence[str]) -> pd.DataFrame:
    """Per-item predictions: raw output, both extractions, gold, correctness."""
    rows = []
    for example, output in zip(examples, outputs, strict=True):
        strict = extract_strict(output, example.language)
        flexible = extract_flexible(output, example.language)
        rows.append(
            {
                "task": example.task,
                "language": example.language,
                "item_id": example.item_id,
                "prompt": example.prompt,
                "output": output,
                "gold": example.answer,
                "extracted_strict": strict,
                "extracted_flexible": flexible,
                "correct_strict": answers_match(strict, example.answer),
                "correct_flexible": answers_match(flexible, example.answer),
            }
        )
    return pd.DataFrame(rows)


def evaluate(model, tokenizer, examples: Sequence[Example], max_new_tokens: int, batch_size: int,
             prompt_format: str = "plain", progress=None) -> tuple[pd.DataFrame, float]:
    """Generate for every evaluation example and score it; returns predictions and seconds."""
    started = time.perf_counter()
    outputs = generate(model, tokenizer, [ex.prompt for ex in examples], max_new_tokens, batch_size,
                       prompt_format=prompt_format, progress=progress)
    return score_math(examples, outputs), time.perf_counter() - started


# Each metric: how it is computed from the per-item predictions, all on a 0–1 scale.
MATH_METRICS = {
    "accuracy_strict": lambda g: g["correct_strict"].mean(),
    "accuracy_flexible": lambda g: g["correct_flexible"].mean(),
    "no_answer_strict": lambda g: g["extracted_strict"].isna().mean(),
    "no_answer_flexible": lambda g: g["extracted_flexible"].isna().mean(),
}
HEADLINE_METRIC = {"math_reasoning": "accuracy_strict"}


def language_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per task × language × metric, with the number of items behind it."""
    rows = []
    for (task, language), group in predictions.groupby(["task", "language"], sort=False):
        for metric, compute in MATH_METRICS.items():
            rows.append(
                {"task": task, "language": language, "metric": metric,
                 "value": float(compute(group)), "n_items": len(group)}
            )
    return pd.DataFrame(rows)
