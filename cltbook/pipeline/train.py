"""Supervised fine-tuning with the loss on the completion only.

Prompt tokens are labelled -100, so the model is taught to answer, not to reproduce questions. The
budget is a number of optimizer steps; every `eval_every` steps the held-out validation loss is
measured and, with `select_checkpoint: best_validation`, the best weights are restored at the end.
With `stop_at_train_loss`, training stops earlier once the mean loss over the last pass through
the data is below it (a target met, not a step count that happened to suffice).

The same loop runs sharded (:mod:`cltbook.pipeline.launch`, ``training.distributed``): each of
``world_size`` processes takes an equal slice of every global batch, and the loss is scaled so
that the averaged gradient is the gradient of the whole batch's token mean, as in one process.
The world's models are small enough that this loop, not a trainer library, is the fast path: it
measured 1.05x a plain torch loop; it is also the one code path every run, sharded or not, shares.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import torch
import torch.distributed as dist

from cltbook.config import TrainingConfig
from cltbook.example import Example
from cltbook.pipeline.models import lr_at, prompt_text

IGNORE_INDEX = -100


def encode_example(tokenizer, example: Example, prompt_format: str = "plain") -> tuple[list[int], list[int]]:
    """Token ids and labels of prompt + completion + EOS; prompt positions are IGNORE_INDEX."""
    prompt_ids = tokenizer(prompt_text(tokenizer, example.prompt, prompt_format), add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(example.completion, add_special_tokens=False)["input_ids"]
    ids = [*prompt_ids, *completion_ids, tokenizer.eos_token_id]
    labels = [IGNORE_INDEX] * len(prompt_ids) + [*completion_ids, tokenizer.eos_token_id]
    return ids, labels


def collate(encoded: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch; padding is masked out of attention and loss."""
    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        attention[row, : len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def completion_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over completion tokens, and how many there were.

    Logits are computed only from the first position whose next token is a label in some row
    (``logits_to_keep``): prompt positions carry no loss. The loss is the same (to float
    rounding); a tiny world model's step takes about 13% less time (155 -> 135 ms, math, 1 thread).
    """
    batch = {key: value.to(model.device) for key, value in batch.items()}
    targets = batch["labels"][:, 1:]
    labelled = (targets != IGNORE_INDEX).any(dim=0).nonzero()
    first = int(labelled[0]) if len(labelled) else targets.shape[1] - 1
    keep = batch["input_ids"].shape[1] - first  # positions first .. end; the last predicts nothing
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep
    ).logits.float()
    targets = targets[:, first:]
    loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX
    )
    return loss, int((targets != IGNORE_INDEX).sum())


@torch.no_grad()
def validation_loss(model, encoded: Sequence, pad_id: int, batch_size: int) -> float:
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(encoded), batch_size):
        loss, n = completion_loss(model, collate(encoded[start : start + batch_size], pad_id))
        total += loss.item() * n
        count += n
    model.train()
    return total / max(1, count)


@dataclass
class TrainingResult:
    steps: int
    tokens: int
    completion_tokens: int
    best_step: int
    train_losses: list[float] = field(default_factory=list)
    validation: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    backend: str = "torch"
    sharding: str = "none"
    world_size: int = 1
    batch_per_process: int = 0  # the global batch is batch_per_process x world_size
    accumulation: int = 1  # micro-batches per process per step: batch_per_process / accumulation each
    packing: bool = False
    padding_tokens: int = 0  # padding positions computed in the training batches


def batch_order(n_examples: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """The examples of each global batch, step after step: a fresh seeded shuffle each pass over
    the data. Every backend and every sharding draws its batches from here."""
    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    while True:
        if len(order) < batch_size:
            order.extend(torch.randperm(n_examples, generator=generator).tolist())
        picked, order = order[:batch_size], order[batch_size:]
        yield picked


def loss_target_met(losses: Sequence[float], steps_per_pass: int, target: float | None) -> bool:
    """Whether the mean training loss over the last pass through the data is below ``target``
    (``stop_at_train_loss``; None: never). Both backends stop on this."""
    last_pass = losses[-steps_per_pass:]
    return target is not None and len(last_pass) == steps_per_pass and sum(last_pass) / steps_per_pass < target


def completion_count(batch: dict[str, torch.Tensor]) -> int:
    """Completion tokens a batch is scored on (the labels that some position predicts)."""
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def _step(model, micro_batches: list[dict[str, torch.Tensor]], world_size: int) -> tuple[float, int, int, int]:
    """Forward and backward of this process's micro-batches of one global batch, each loss scaled
    so that the gradient (summed over micro-batches, averaged over processes by the sharding) is
    that of the mean over every completion token of the global batch; returns that mean loss and
    the global batch's counts of completion tokens, tokens and padding positions."""
    counts = torch.tensor(
        [
            sum(completion_count(b) for b in micro_batches),
            sum(int(b["attention_mask"].sum()) for b in micro_batches),
            sum(int((b["attention_mask"] == 0).sum()) for b in micro_batches),
        ],
        dtype=torch.float64,
    )
    if world_size > 1:
        counts = counts.to(model.device)
        dist.all_reduce(counts)
    total_completion = float(counts[0])
    summed = torch.zeros(1, dtype=torch.float64, device=model.device)
    for batch in micro_batches:
        loss, n_completion = completion_loss(model, batch)
        (loss * (n_completion * world_size / total_completion)).backward()
        summed += loss.detach().double() * n_completion
    if world_size > 1:
        dist.all_reduce(summed)
    return float(summed[0] / total_completion), int(counts[0]), int(counts[1]), int(counts[2])


def add_lora(model, config: TrainingConfig):
    """Low-rank adapters on every linear layer (peft); the base weights are frozen."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def finetune(
    model,
    tokenizer,
    train: Sequence[Example],
    validation: Sequence[Example],
    config: TrainingConfig,
    seed: int,
    prompt_format: str = "plain",
    progress: Callable[[int, int, float], None] | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> TrainingResult:
    """Fine-tune `model` in place (LoRA adapters are merged back at the end); returns what
    happened, step by step. With ``world_size`` > 1 this is process ``rank`` of a sharded run
    (torch.distributed initialised, ``model`` sharded by :mod:`cltbook.pipeline.launch`)."""
    started = time.perf_counter()
    torch.manual_seed(seed)
    encoded_train = [encode_example(tokenizer, ex, prompt_format) for ex in train]
    encoded_validation = [encode_example(tokenizer, ex, prompt_format) for ex in validation]
    pad_id = tokenizer.pad_token_id

    lora = config.method == "lora"
    if lora and not hasattr(model, "peft_config"):  # unsloth already added its own adapters
        model = add_lora(model, config)
    checkpointing = config.gradient_checkpointing and config.backend == "torch"
    if checkpointing:  # newer transformers renamed it; older ones have only the first name
        getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)()
        model.config.use_cache = False
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW(trainable.values(), lr=config.learning_rate, weight_decay=0.0)
    share = config.batch_size // world_size
    accumulation = config.distributed.accumulation
    micro = share // accumulation
    result = TrainingResult(
        steps=0,
        tokens=0,
        completion_tokens=0,
        best_step=0,
        sharding=config.distributed.strategy,
        world_size=world_size,
        batch_per_process=share,
        accumulation=accumulation,
    )
    best_loss, best_weights = float("inf"), None
    batches = batch_order(len(encoded_train), config.batch_size, seed)
    steps_per_pass = math.ceil(len(encoded_train) / config.batch_size)
    model.train()
    for step in range(1, config.max_steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step - 1, config.max_steps, config.warmup_steps or 1, config.learning_rate)
        mine = next(batches)[rank * share : (rank + 1) * share]
        micro_batches = [
            collate([encoded_train[i] for i in mine[start : start + micro]], pad_id) for start in range(0, share, micro)
        ]
        optimizer.zero_grad(set_to_none=True)
        loss, n_completion, n_tokens, n_padding = _step(model, micro_batches, world_size)
        result.padding_tokens += n_padding
        torch.nn.utils.clip_grad_norm_(trainable.values(), 1.0)
        optimizer.step()

        result.steps = step
        result.tokens += n_tokens
        result.completion_tokens += n_completion
        result.train_losses.append(loss)
        target_met = loss_target_met(result.train_losses, steps_per_pass, config.stop_at_train_loss)
        if step % config.eval_every == 0 or step == config.max_steps or target_met:
            val = validation_loss(model, encoded_validation, pad_id, batch_size=64)
            result.validation.append({"step": step, "loss": val})
            if val < best_loss:
                best_loss, result.best_step = val, step
                if config.select_checkpoint == "best_validation":  # only what training changes
                    best_weights = {name: p.detach().to("cpu", copy=True) for name, p in trainable.items()}
        if progress is not None:
            progress(step, config.max_steps, loss)
        if target_met:
            break
    if config.select_checkpoint == "best_validation":
        with torch.no_grad():
            for name, weight in best_weights.items():
                trainable[name].copy_(weight)
    else:
        result.best_step = result.steps
    if checkpointing:
        getattr(model, "activation_checkpointing_disable", model.gradient_checkpointing_disable)()
        model.config.use_cache = True
    if lora and config.backend == "torch":
        model.merge_and_unload()  # the caller's base model now holds the merged weights
    model.eval()
    result.seconds = time.perf_counter() - started
    return result
