"""Fine-tuning: loss on the completion only; the checkpoint is the best on validation."""

import dataclasses

import pytest
import torch
from conftest import random_llama

from cltbook.config import TrainingConfig
from cltbook.data.mixture import Example
from cltbook.pipeline.models import train_tokenizer
from cltbook.pipeline.train import IGNORE_INDEX, collate, completion_loss, encode_example, finetune

TEXTS = ["Question: 2 + 3?\nAnswer: 2 + 3 = 5. The answer is 5.", "Pregunta: 4 + 1?"] * 20


def tokenizer():
    return train_tokenizer(TEXTS, vocab_size=300, alphabet="0123456789+=?.:")


def example(i: int) -> Example:
    return Example(
        "math_reasoning",
        "en",
        f"t{i}",
        f"Question: {i} + 3?\nAnswer:",
        f" {i} + 3 = {i + 3}. The answer is {i + 3}.",
        float(i + 3),
    )


def test_prompt_tokens_are_masked_and_completion_tokens_kept():
    tok = tokenizer()
    ex = example(2)
    ids, labels = encode_example(tok, ex)
    prompt_len = 1 + len(tok(ex.prompt, add_special_tokens=False)["input_ids"])
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert labels[:prompt_len] == [IGNORE_INDEX] * prompt_len
    assert labels[prompt_len:] == ids[prompt_len:]
    assert tok.decode(ids[prompt_len:-1]).strip() == ex.completion.strip()


def test_collate_pads_on_the_right_and_masks_padding():
    tok = tokenizer()
    batch = collate([encode_example(tok, example(1)), encode_example(tok, example(12345))], tok.pad_token_id)
    short = batch["attention_mask"][0].sum()
    assert (batch["input_ids"][0, short:] == tok.pad_token_id).all()
    assert (batch["labels"][0, short:] == IGNORE_INDEX).all()
    assert batch["attention_mask"][1].all()


def small_model(tok):
    return random_llama(tok)


def full_logits_loss(model, batch):
    """The loss computed the long way: logits at every position."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)), batch["labels"][:, 1:].reshape(-1), ignore_index=IGNORE_INDEX
    )


@pytest.mark.parametrize("architecture", ["llama", "qwen2"])
def test_completion_loss_skips_prompt_logits_without_changing_the_loss_or_its_gradient(architecture):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = tokenizer()
    if architecture == "llama":
        model = small_model(tok)
    else:
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(
            Qwen2Config(
                vocab_size=len(tok),
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=1,
                num_attention_heads=2,
                num_key_value_heads=1,
                pad_token_id=tok.pad_token_id,
            )
        )
    # prompts of different lengths: the first labelled position differs per row
    long_prompt = Example("math_reasoning", "en", "long", "Question: " + "1 + " * 12 + "3?\nAnswer:", " 15.", 15.0)
    batch = collate([encode_example(tok, ex) for ex in (example(1), long_prompt, example(123))], tok.pad_token_id)
    assert (batch["labels"][:, 1:] != IGNORE_INDEX).any(dim=0).nonzero()[0] > 0  # there is a prompt to skip
    loss, n = completion_loss(model, batch)
    loss.backward()
    trimmed = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    reference = full_logits_loss(model, batch)
    reference.backward()
    assert n == int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
    torch.testing.assert_close(loss, reference)
    for name, p in model.named_parameters():
        torch.testing.assert_close(trimmed[name], p.grad, msg=name)


def test_finetune_lowers_validation_loss_and_restores_the_best_step():
    tok = tokenizer()
    train = [example(i) for i in range(40)]
    validation = [example(i) for i in range(100, 110)]
    config = TrainingConfig(max_steps=30, batch_size=8, learning_rate=3e-3, warmup_steps=2, eval_every=10)
    model = small_model(tok)
    result = finetune(model, tok, train, validation, config, seed=0)
    losses = [v["loss"] for v in result.validation]
    assert result.steps == 30 and len(losses) == 3
    assert losses[-1] < losses[0]
    assert result.best_step == 10 * (1 + losses.index(min(losses)))
    assert result.completion_tokens < result.tokens


def test_training_stops_once_a_pass_over_the_data_is_below_the_target_loss():
    tok = tokenizer()
    train = [example(i) for i in range(16)]  # two steps a pass at batch size 8
    capped = TrainingConfig(
        max_steps=300, batch_size=8, learning_rate=3e-3, warmup_steps=2, eval_every=100, select_checkpoint="last"
    )
    full = finetune(small_model(tok), tok, train, train[:4], capped, seed=0)
    target = 0.5
    passes = [sum(full.train_losses[i - 2 : i]) / 2 for i in range(2, len(full.train_losses) + 1)]
    first_below = 2 + next(i for i, loss in enumerate(passes) if loss < target)
    stopped = finetune(
        small_model(tok), tok, train, train[:4], dataclasses.replace(capped, stop_at_train_loss=target), seed=0
    )
    assert stopped.steps == stopped.best_step == first_below < 300
    assert stopped.train_losses == full.train_losses[:first_below]
    assert stopped.validation[-1]["step"] == first_below  # the last weights are validated too
    never = finetune(
        small_model(tok),
        tok,
        train,
        train[:4],
        dataclasses.replace(capped, max_steps=20, stop_at_train_loss=1e-9),
        seed=0,
    )
    assert never.steps == 20


def test_same_seed_same_training():
    tok = tokenizer()
    train = [example(i) for i in range(20)]
    config = TrainingConfig(max_steps=5, batch_size=4, eval_every=5)
    runs = [finetune(small_model(tok), tok, train, train[:4], config, seed=3).train_losses for _ in range(2)]
    assert runs[0] == runs[1]


def test_lora_trains_adapters_only_and_merges_them_back():
    tok = tokenizer()
    model = small_model(tok)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    config = TrainingConfig(
        max_steps=6, batch_size=4, learning_rate=1e-2, eval_every=3, method="lora", lora_rank=4, lora_alpha=8
    )
    result = finetune(model, tok, [example(i) for i in range(12)], [example(50)], config, seed=0)
    assert result.steps == 6
    after = dict(model.named_parameters())
    assert set(after) == set(before)  # the adapters are gone: merged into the base weights
    changed = [name for name in before if not torch.equal(before[name], after[name].detach())]
    assert changed and all("proj" in name for name in changed)  # linear layers only
    assert "model.embed_tokens.weight" not in changed


def test_gradient_checkpointing_gives_the_same_losses():
    tok = tokenizer()
    train = [example(i) for i in range(8)]
    plain = TrainingConfig(max_steps=3, batch_size=4, eval_every=3)
    checkpointed = TrainingConfig(max_steps=3, batch_size=4, eval_every=3, gradient_checkpointing=True)
    a = finetune(small_model(tok), tok, train, train[:2], plain, seed=1).train_losses
    b = finetune(small_model(tok), tok, train, train[:2], checkpointed, seed=1).train_losses
    assert a == pytest.approx(b, rel=1e-5)
