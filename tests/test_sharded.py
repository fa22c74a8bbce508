"""One run's full fine-tuning sharded over two CPU processes with FSDP (gloo): the same loss curve
and the same trained model as one process on the same data order and global batch."""

import dataclasses

import pytest
import torch
from conftest import random_llama

from cltbook.config import ConfigError, DistributedConfig, TrainingConfig, run_config
from cltbook.example import Example
from cltbook.pipeline import launch
from cltbook.pipeline.evaluate import generate
from cltbook.pipeline.models import train_tokenizer
from cltbook.pipeline.train import finetune

TEXTS = ["Question: 12 + 3?\nAnswer: 12 + 3 = 15. The answer is 15.", "Pregunta: 4 + 1?"] * 20


def example(i: int) -> Example:
    return Example(
        "math_reasoning", "en", f"t{i}", f"Question: {i} + 3?\nAnswer:", f" {i} + 3 = {i + 3}. The answer is {i + 3}."
    )


def tiny_llama(tok):
    """A random two-layer Llama: two decoder layers to shard, an untied output layer."""
    return random_llama(tok, layers=2)


@pytest.mark.slow
def test_two_fsdp_processes_train_as_one_process_does():
    tok = train_tokenizer(TEXTS, vocab_size=300, alphabet="0123456789+=?.:")
    train, validation = [example(i) for i in range(48)], [example(i) for i in range(100, 108)]
    config = TrainingConfig(max_steps=12, batch_size=8, learning_rate=3e-3, warmup_steps=2, eval_every=4)
    sharded_config = dataclasses.replace(config, distributed=DistributedConfig(strategy="fsdp", processes=2))

    one = tiny_llama(tok)
    alone = finetune(one, tok, train, validation, config, seed=0)
    two = tiny_llama(tok)
    seen = []
    sharded = launch.finetune(two, tok, train, validation, sharded_config, seed=0, progress=lambda *a: seen.append(a))

    assert (sharded.sharding, sharded.world_size, sharded.batch_per_process) == ("fsdp", 2, 4)
    assert (alone.world_size, alone.batch_per_process) == (1, 8)
    # the same global batches: the same loss curve, token counts and checkpoint choice
    assert sharded.train_losses == pytest.approx(alone.train_losses, rel=1e-4)
    assert [v["loss"] for v in sharded.validation] == pytest.approx([v["loss"] for v in alone.validation], rel=1e-4)
    assert (sharded.tokens, sharded.completion_tokens, sharded.best_step) == (
        alone.tokens,
        alone.completion_tokens,
        alone.best_step,
    )
    assert alone.train_losses[-1] < alone.train_losses[0]
    assert [step for step, _, _ in seen] == list(range(1, 13))  # rank 0's progress reached the notebook
    # the checkpoint the processes saved, reloaded here, is the one-process model
    for (name, a), (_, b) in zip(one.state_dict().items(), two.state_dict().items(), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-5, msg=name)
    prompts = [example(i).prompt for i in range(200, 204)]
    assert generate(two, tok, prompts, 12, batch_size=4) == generate(one, tok, prompts, 12, batch_size=4)


def test_a_failing_sharded_process_is_reported_with_its_output():
    tok = train_tokenizer(TEXTS, vocab_size=300, alphabet="0123456789+=?.:")
    config = TrainingConfig(max_steps=2, batch_size=2, distributed=DistributedConfig(strategy="fsdp", processes=2))
    model = tiny_llama(tok)
    model.save_pretrained = lambda *args, **kwargs: None  # the processes then find no base model
    with pytest.raises(RuntimeError, match=r"sharded training \(2 processes\) failed, exit 1:(.|\n)*config.json"):
        launch.finetune(model, tok, [example(1)], [example(2)], config, seed=0)


@pytest.mark.parametrize(
    ("distributed", "training", "message"),
    [
        ({"processes": 2}, {}, "need a sharding strategy"),
        ({"strategy": "fsdp", "processes": 0}, {}, "must be >= 1"),
        ({"strategy": "fsdp", "processes": 2}, {"method": "lora"}, "shards full fine-tuning"),
        ({"strategy": "fsdp", "processes": 3}, {"batch_size": 16}, "must split evenly over 3 processes"),
        ({"strategy": "zero"}, {}, "strategy"),
    ],
)
def test_sharding_settings_are_checked_before_any_work(distributed, training, message):
    with pytest.raises(ConfigError, match=message) as error:
        run_config({"training": {**training, "distributed": distributed}})
    assert error.value.path.startswith("training.distributed")
