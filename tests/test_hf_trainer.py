"""The trainer backend (transformers' Trainer) computes what the plain loop computes: the same
batches, schedule, answer-only loss, validation and checkpoint choice; packing and gradient
accumulation change how a batch is laid out, not the loss."""

import dataclasses

import pytest
import torch
from conftest import random_llama

from cltbook.config import ConfigError, DistributedConfig, TrainingConfig, run_config
from cltbook.example import Example
from cltbook.pipeline import hf_trainer, launch, train
from cltbook.pipeline.models import load_model, train_tokenizer
from cltbook.pipeline.train import IGNORE_INDEX, collate, encode_example

TEXTS = ["Question: 12 + 3?\nAnswer: 12 + 3 = 15. The answer is 15.", "Pregunta: 4 + 1?"] * 20


def example(i: int) -> Example:
    """Prompts of different lengths, so that padded batches hold padding."""
    return Example(
        "math_reasoning", "en", f"t{i}", f"Question: {i} + 3?{' +' * (i % 7)}\nAnswer:", f" {i} + 3 = {i + 3}."
    )


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=300, alphabet="0123456789+=?.:")


TRAIN, VALIDATION = [example(i) for i in range(48)], [example(i) for i in range(100, 108)]
CONFIG = TrainingConfig(max_steps=12, batch_size=8, learning_rate=3e-3, warmup_steps=2, eval_every=4)


def both(tok, config: TrainingConfig, examples=TRAIN, **trainer_settings):
    """The plain loop and the Trainer on the same random model, data and seed."""
    plain_model, trainer_model = random_llama(tok, layers=2), random_llama(tok, layers=2)
    plain = train.finetune(plain_model, tok, examples, VALIDATION, config, seed=0)
    trainer_config = dataclasses.replace(config, backend="trainer", **trainer_settings)
    trained = hf_trainer.finetune(trainer_model, tok, examples, VALIDATION, trainer_config, seed=0)
    return (plain, plain_model), (trained, trainer_model)


def assert_same_training(a, b, rel=1e-5):
    assert b.train_losses == pytest.approx(a.train_losses, rel=rel)
    assert [v["step"] for v in b.validation] == [v["step"] for v in a.validation]
    assert [v["loss"] for v in b.validation] == pytest.approx([v["loss"] for v in a.validation], rel=rel)
    counts = ("steps", "best_step", "tokens", "completion_tokens")
    assert [getattr(b, name) for name in counts] == [getattr(a, name) for name in counts]


def assert_same_weights(a, b):
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(y, x, rtol=1e-4, atol=1e-5, msg=name)


def test_the_trainer_trains_as_the_plain_loop_does(tok):
    (plain, plain_model), (trained, trainer_model) = both(tok, CONFIG)
    assert_same_training(plain, trained)
    assert plain.train_losses[-1] < plain.train_losses[0]
    assert_same_weights(plain_model, trainer_model)  # the best checkpoint, reloaded by the Trainer
    record = (trained.backend, trained.sharding, trained.world_size, trained.batch_per_process)
    assert record == ("trainer", "none", 1, 8)
    assert trained.padding_tokens == plain.padding_tokens > 0


def test_the_trainer_restores_the_best_validation_step(tok):
    """Eight examples learnt by heart: the validation loss falls, then rises, and the Trainer's
    model holds the weights of the best step, as the plain loop's does."""
    config = dataclasses.replace(CONFIG, max_steps=40, learning_rate=1e-2, eval_every=4)
    (plain, plain_model), (trained, trainer_model) = both(tok, config, examples=TRAIN[:8])
    losses = [v["loss"] for v in trained.validation]
    assert trained.best_step == 4 * (1 + losses.index(min(losses))) < 40
    assert trained.best_step == plain.best_step
    assert_same_weights(plain_model, trainer_model)


def test_the_trainer_scores_the_answer_only(tok):
    """The first step's loss is the mean cross-entropy over completion tokens of the first batch."""
    model = random_llama(tok, layers=2)
    first = next(train.batch_order(len(TRAIN), CONFIG.batch_size, seed=0))
    batch = collate([encode_example(tok, TRAIN[i]) for i in first], tok.pad_token_id)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    expected = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX
    )
    result = hf_trainer.finetune(model, tok, TRAIN, VALIDATION, dataclasses.replace(CONFIG, backend="trainer"), 0)
    assert result.train_losses[0] == pytest.approx(expected.item(), rel=1e-5)
    # scoring the prompts as well would have given another loss
    every_token = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, IGNORE_INDEX)[:, 1:]
    with_prompts = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)), every_token.reshape(-1), ignore_index=IGNORE_INDEX
    )
    assert abs(with_prompts.item() - result.train_losses[0]) > 1e-3


def test_padding_free_packing_gives_the_same_training_without_padding(tok):
    (plain, _), (packed, _) = both(tok, CONFIG, packing=True)
    assert_same_training(plain, packed, rel=1e-4)
    assert packed.packing and packed.padding_tokens == 0 < plain.padding_tokens


@pytest.mark.parametrize("backend", ["torch", "trainer"])
def test_gradient_accumulation_gives_the_same_training(tok, backend):
    whole = dataclasses.replace(CONFIG, backend=backend)
    accumulated = dataclasses.replace(whole, distributed=DistributedConfig(accumulation=4))
    finetune = train.finetune if backend == "torch" else hf_trainer.finetune
    a = finetune(random_llama(tok, layers=2), tok, TRAIN, VALIDATION, whole, seed=0)
    b = finetune(random_llama(tok, layers=2), tok, TRAIN, VALIDATION, accumulated, seed=0)
    assert_same_training(a, b)
    assert (b.accumulation, b.batch_per_process) == (4, 8)
    assert b.padding_tokens < a.padding_tokens  # narrower micro-batches pad less


def test_lora_and_the_loss_target_behave_as_in_the_plain_loop(tok):
    config = dataclasses.replace(
        CONFIG,
        method="lora",
        lora_rank=4,
        lora_alpha=8,
        learning_rate=3e-2,
        select_checkpoint="last",
        max_steps=40,
        stop_at_train_loss=3.95,
    )
    (plain, plain_model), (trained, trainer_model) = both(tok, config)
    assert trained.steps == plain.steps < 40  # stopped where a pass's mean loss fell below the target
    assert trained.best_step == trained.steps and trained.validation[-1]["step"] == trained.steps
    assert_same_training(plain, trained)
    assert set(dict(trainer_model.named_parameters())) == set(dict(plain_model.named_parameters()))  # merged
    assert_same_weights(plain_model, trainer_model)


def test_the_trainer_reports_progress_each_step(tok):
    seen = []
    config = dataclasses.replace(CONFIG, backend="trainer", max_steps=5, eval_every=5)
    launch.finetune(random_llama(tok, layers=2), tok, TRAIN, VALIDATION, config, 0, progress=lambda *a: seen.append(a))
    assert [(step, total) for step, total, _ in seen] == [(s, 5) for s in range(1, 6)]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for CPU-only machines")
def test_trainer_sharding_on_the_cpu_is_refused_before_any_work(tok):
    config = dataclasses.replace(CONFIG, backend="trainer", distributed=DistributedConfig(strategy="fsdp", processes=2))
    model = random_llama(tok, layers=2)
    model.save_pretrained = lambda *args, **kwargs: pytest.fail("work started")
    with pytest.raises(RuntimeError, match="needs CUDA GPUs.*use backend: torch"):
        launch.finetune(model, tok, TRAIN, VALIDATION, config, seed=0)


@pytest.mark.parametrize(
    ("training", "path", "message"),
    [
        ({"packing": True}, "training.packing", "done by the trainer backend, not 'torch'"),
        ({"distributed": {"accumulation": 0}}, "training.distributed.accumulation", "must be >= 1"),
        (
            {"batch_size": 16, "distributed": {"accumulation": 3}},
            "training.distributed.accumulation",
            "16 must split evenly over 1 processes x 3 micro-batches",
        ),
        ({"backend": "accelerate"}, "training.backend", "accelerate"),
    ],
)
def test_trainer_settings_are_checked_before_any_work(training, path, message):
    with pytest.raises(ConfigError, match=message) as error:
        run_config({"training": training})
    assert error.value.path == path


def test_packing_and_accumulation_do_not_change_the_run_id():
    """They lay the same batch out differently; the backend is part of the id."""
    plain = run_config({})
    laid_out = run_config({"training": {"backend": "trainer", "packing": True, "distributed": {"accumulation": 2}}})
    assert run_config({"training": {"backend": "trainer"}}).run_id == laid_out.run_id != plain.run_id


def test_the_attention_kernel_is_chosen_at_load_and_not_part_of_the_run_id(tok, tmp_path):
    random_llama(tok, layers=2).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    for kernel in ("eager", "sdpa"):
        model, _ = load_model(tmp_path, attention=kernel)
        assert model.config._attn_implementation == kernel
    assert run_config({"base_model": {"attention": "eager"}}).run_id == run_config({}).run_id
    with pytest.raises(ConfigError, match="flash") as error:
        run_config({"base_model": {"attention": "flash"}})
    assert error.value.path == "base_model.attention"


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for CPU-only machines")
def test_flash_attention_without_a_gpu_is_refused_before_the_weights_load(tmp_path):
    with pytest.raises(RuntimeError, match="base_model.attention: 'flash_attention_2' needs a CUDA GPU"):
        load_model(tmp_path / "not-even-there", attention="flash_attention_2")
