"""Fine-tuning through transformers' ``Trainer`` (accelerate underneath): the backend for real
models, ``training.backend: trainer``.

Two loops exist on purpose. The world's models have under a million parameters, so a step is
mostly Python overhead: there the plain loop of :mod:`cltbook.pipeline.train` is the fast path
(1.05x a bare torch loop) and the one the CPU sharding tests run. Real models want what the
field's trainer gives: FSDP through accelerate, bf16 mixed precision, gradient checkpointing,
checkpoint saving and padding-free packing (``training.packing``: transformers'
``DataCollatorWithFlattening``, each batch one row of concatenated examples whose attention stays
inside each example).

What a run computes does not depend on the backend. This one is given exactly what the plain loop
uses: the same encoded examples (the loss on the answer only), the same global batches in the same
order (:func:`~cltbook.pipeline.train.batch_order`, read sequentially), the same learning-rate
schedule (:func:`~cltbook.pipeline.models.lr_at`), the same validation loss (the mean over every
completion token of the held-out set) and so the same checkpoint choice, and the same
:class:`~cltbook.pipeline.train.TrainingResult`. The training loss is transformers' own: the sum
over completion tokens divided by the global batch's count (``num_items_in_batch``), which is the
plain loop's token mean. ``tests/test_hf_trainer.py`` checks the two backends' loss curves against
each other.
"""

from __future__ import annotations

import math
import tempfile
import time
from typing import Callable, Sequence

import torch
from torch.utils.data import Dataset, SequentialSampler
from transformers import DataCollatorWithFlattening, PrinterCallback, Trainer, TrainerCallback, TrainingArguments
from transformers.utils import logging as transformers_logging

from cltbook.config import TrainingConfig
from cltbook.example import Example
from cltbook.pipeline.models import lr_at
from cltbook.pipeline.train import (
    IGNORE_INDEX,
    TrainingResult,
    add_lora,
    batch_order,
    collate,
    encode_example,
    loss_target_met,
    validation_loss,
)

VALIDATION_BATCH = 64  # as the plain loop


class _Encoded(Dataset):
    """Encoded examples in the order training reads them."""

    def __init__(self, encoded: Sequence[tuple[list[int], list[int]]]):
        self.encoded = encoded

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        ids, labels = self.encoded[index]
        return {"input_ids": ids, "labels": labels}


class _Padded:
    """The plain loop's right-padded batches."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        return collate([(f["input_ids"], f["labels"]) for f in features], self.pad_id)


class _SameTrainer(Trainer):
    """``Trainer`` reading batches in the given order, with the plain loop's schedule and
    validation loss."""

    def __init__(self, *args, validation_set, pad_id: int, config: TrainingConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.validation_set, self.pad_id, self.config = validation_set, pad_id, config

    def _get_train_sampler(self, train_dataset=None):
        return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            steps, warmup = self.config.max_steps, self.config.warmup_steps or 1
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer or self.optimizer, lambda step: lr_at(step, steps, warmup, 1.0)
            )
        return self.lr_scheduler

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """The token-mean validation loss of the plain loop (every process computes it whole)."""
        loss = validation_loss(self.model, self.validation_set, self.pad_id, VALIDATION_BATCH)
        metrics = {f"{metric_key_prefix}_loss": loss}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


class _Steps(TrainerCallback):
    """Collects the loss of every step and each validation; evaluates (and saves) at the last step
    and where the training-loss target is met, as the plain loop does."""

    def __init__(self, config: TrainingConfig, steps_per_pass: int, progress):
        self.config, self.steps_per_pass, self.progress = config, steps_per_pass, progress
        self.losses: list[float] = []
        self.validation: list[dict] = []
        self.stopped_early = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None:
            return
        if "eval_loss" in logs:
            self.validation.append({"step": state.global_step, "loss": logs["eval_loss"]})
        if "loss" not in logs:
            return
        self.losses.append(logs["loss"])
        if self.progress is not None and state.is_world_process_zero:
            self.progress(state.global_step, self.config.max_steps, logs["loss"])
        met = loss_target_met(self.losses, self.steps_per_pass, self.config.stop_at_train_loss)
        if met or state.global_step == self.config.max_steps:
            control.should_evaluate = True
            control.should_save = self.config.select_checkpoint == "best_validation"
        if met:
            self.stopped_early = True
            control.should_training_stop = True


def arguments(config: TrainingConfig, output_dir: str, seed: int, world_size: int) -> TrainingArguments:
    """The Trainer's settings for a run: the batch split into processes x accumulation, the plain
    loop's optimizer (AdamW, no weight decay, gradients clipped at 1), bf16 on GPUs, and FSDP's
    full sharding of every decoder layer where ``training.distributed.strategy`` is ``fsdp``."""
    accumulation = config.distributed.accumulation
    best = config.select_checkpoint == "best_validation"
    sharded = config.distributed.strategy == "fsdp"
    cuda = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=config.batch_size // (world_size * accumulation),
        gradient_accumulation_steps=accumulation,
        learning_rate=config.learning_rate,
        weight_decay=0.0,
        max_grad_norm=1.0,
        optim="adamw_torch",
        max_steps=config.max_steps,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=config.eval_every,
        save_strategy="steps" if best else "no",
        save_steps=config.eval_every,
        save_total_limit=1,
        save_only_model=not sharded,  # FSDP's best checkpoint reload needs its full checkpoints
        load_best_model_at_end=best,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        seed=seed,
        data_seed=seed,
        bf16=cuda,
        activation_checkpointing=config.gradient_checkpointing,
        remove_unused_columns=False,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_cpu=not cuda,
        fsdp="full_shard auto_wrap" if sharded else "",
        fsdp_config={"fsdp_version": 2, "reshard_after_forward": True} if sharded else None,
    )


def refuse_cpu_sharding(config: TrainingConfig) -> None:
    """The Trainer shards with FSDP on GPUs only: on the CPU it silently trains unsharded copies
    (plain data parallelism), which is not what the run asks for."""
    if config.backend == "trainer" and config.distributed.strategy == "fsdp" and not torch.cuda.is_available():
        raise RuntimeError(
            "training.distributed.strategy: fsdp with training.backend: trainer needs CUDA GPUs (on the CPU the "
            "Trainer would train unsharded copies instead); use backend: torch to shard over CPU processes"
        )


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
    """Fine-tune ``model`` in place with the Trainer; the same arguments and result as
    :func:`cltbook.pipeline.train.finetune` (LoRA adapters are merged back at the end)."""
    refuse_cpu_sharding(config)
    started = time.perf_counter()
    torch.manual_seed(seed)
    encoded_train = [encode_example(tokenizer, ex, prompt_format) for ex in train]
    encoded_validation = [encode_example(tokenizer, ex, prompt_format) for ex in validation]
    if config.method == "lora" and not hasattr(model, "peft_config"):
        model = add_lora(model, config)
    # every global batch of the run, in order, read sequentially: process p of N takes the p-th
    # of each N consecutive per-device batches (accelerate's batch sharding), so together the
    # processes take exactly the plain loop's global batch at every step
    batches = batch_order(len(encoded_train), config.batch_size, seed)
    sequence = [encoded_train[i] for _ in range(config.max_steps) for i in next(batches)]
    steps_per_pass = math.ceil(len(encoded_train) / config.batch_size)
    steps = _Steps(config, steps_per_pass, progress)
    collator = (
        DataCollatorWithFlattening(return_position_ids=True, separator_id=IGNORE_INDEX)
        if config.packing
        else _Padded(tokenizer.pad_token_id)
    )
    with tempfile.TemporaryDirectory(prefix="cltbook-trainer-") as scratch:
        trainer = _SameTrainer(
            model=model,
            args=arguments(config, scratch, seed, world_size),
            train_dataset=_Encoded(sequence),
            eval_dataset=_Encoded(encoded_validation),
            data_collator=collator,
            callbacks=[steps],
            validation_set=encoded_validation,
            pad_id=tokenizer.pad_token_id,
            config=config,
        )
        trainer.remove_callback(PrinterCallback)  # progress goes to the run's own bar
        bars = transformers_logging.is_progress_bar_enabled()
        transformers_logging.disable_progress_bar()  # one bar per checkpoint written, otherwise
        try:
            trainer.train()
        finally:
            if bars:
                transformers_logging.enable_progress_bar()
        best_step = _best_step(trainer, config)
    done = trainer.state.global_step
    consumed = sequence[: done * config.batch_size]
    tokens = sum(len(ids) for ids, _ in consumed)
    result = TrainingResult(
        steps=done,
        tokens=tokens,
        completion_tokens=sum(sum(1 for label in labels[1:] if label != IGNORE_INDEX) for _, labels in consumed),
        best_step=best_step,
        train_losses=steps.losses,
        validation=steps.validation,
        backend="trainer",
        sharding=config.distributed.strategy,
        world_size=world_size,
        batch_per_process=config.batch_size // world_size,
        accumulation=config.distributed.accumulation,
        packing=config.packing,
        padding_tokens=0 if config.packing else _padding(consumed, config, world_size),
    )
    if config.method == "lora":
        model.merge_and_unload()  # the caller's base model now holds the merged weights
    model.eval()
    result.seconds = time.perf_counter() - started
    return result


def _best_step(trainer: Trainer, config: TrainingConfig) -> int:
    """The step whose weights the model now holds."""
    if config.select_checkpoint != "best_validation":
        return trainer.state.global_step
    if trainer.state.best_global_step is None:
        raise RuntimeError("the Trainer kept no checkpoint to choose from")
    return trainer.state.best_global_step


def _padding(consumed: Sequence[tuple[list[int], list[int]]], config: TrainingConfig, world_size: int) -> int:
    """Padding positions in the padded batches: each micro-batch is as wide as its longest example."""
    micro = config.batch_size // (world_size * config.distributed.accumulation)
    padding = 0
    for start in range(0, len(consumed), micro):
        lengths = [len(ids) for ids, _ in consumed[start : start + micro]]
        padding += max(lengths) * len(lengths) - sum(lengths)
    return padding
