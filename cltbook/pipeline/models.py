"""Base models: a tokenizer and a small Llama pretrained from scratch on the miniature world.

A base model is built once per (world, base_model) configuration and cached under a hash of that
configuration, as an ordinary Hugging Face model folder (safetensors weights, tokenizer files), so
everything downstream loads it exactly as it would load a hub checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Iterator

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from cltbook.config import MODEL_SIZES, PRETRAINING_FIELDS, BaseModelConfig, WorldConfig, base_model_key, to_plain
from cltbook.files import exclusive_lock
from cltbook.world import alphabet_texts, pretraining_documents

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

# Han and kana are split into single characters before BPE: merges across a whole
# name + particle + object run would give every language its own opaque tokens for shared
# entities. Digits are split one by one so that arithmetic is learned digit-wise.
_CJK_CHAR = Regex(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def train_tokenizer(texts: Iterator[str] | list[str], vocab_size: int, alphabet: str = "") -> PreTrainedTokenizerFast:
    """A BPE tokenizer trained on `texts`; every character of `alphabet` gets a token."""
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(),
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.Split(_CJK_CHAR, behavior="isolated"),
            pre_tokenizers.Punctuation(),
        ]
    )
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS, UNK],
        initial_alphabet=sorted(set(alphabet)),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, unk_token=UNK, pad_token=PAD
    )


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


def llama_config(size: str, vocab_size: int, tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    shape = MODEL_SIZES[size]
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_layers,
        num_attention_heads=shape.num_heads,
        num_key_value_heads=shape.num_heads,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Total and non-embedding parameter counts (tied embeddings counted once)."""
    total = sum(p.numel() for p in model.parameters())
    embedding = model.get_input_embeddings().weight.numel()
    return {"total": total, "non_embedding": total - embedding}


def _token_blocks(tokenizer: PreTrainedTokenizerFast, texts: list[str], seq_len: int) -> torch.Tensor:
    """All documents as one EOS-separated token stream, cut into blocks of seq_len + 1."""
    ids: list[int] = []
    for encoded in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        ids.append(tokenizer.eos_token_id)
    n_blocks = len(ids) // (seq_len + 1)
    return torch.tensor(ids[: n_blocks * (seq_len + 1)], dtype=torch.long).view(n_blocks, seq_len + 1)


def lr_at(step: int, max_steps: int, warmup: int, peak: float) -> float:
    """Linear warm-up then cosine decay to 10% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, max_steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def pretrain(model: LlamaForCausalLM, blocks: torch.Tensor, config: BaseModelConfig, progress=None) -> list[float]:
    """Next-token pretraining on random blocks; returns the loss per step."""
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.pretrain_learning_rate, weight_decay=0.01)
    warmup = max(1, config.pretrain_steps // 20)
    losses = []
    model.train()
    for step in range(config.pretrain_steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, config.pretrain_steps, warmup, config.pretrain_learning_rate)
        batch = blocks[torch.randint(len(blocks), (config.pretrain_batch_size,), generator=generator)].to(model.device)
        loss = _next_token_loss(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step + 1, config.pretrain_steps, loss.item())
    model.eval()
    return losses


def _next_token_loss(model: LlamaForCausalLM, batch: torch.Tensor) -> torch.Tensor:
    logits = model(input_ids=batch[:, :-1]).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------


def world_base_model(
    world: WorldConfig, base_model: BaseModelConfig, cache_dir: str | Path, progress=None, device: str = "cpu"
) -> Path:
    """The folder of the base model for this configuration, building it on a cache miss (pretraining
    on `device`)."""
    key = base_model_key(world, base_model)
    root = Path(cache_dir) / "base_models"
    folder = root / key
    with exclusive_lock(root / f".{key}.lock"):
        if (folder / "pretraining.json").is_file():
            return folder
        building = root / f".{key}.building"
        shutil.rmtree(building, ignore_errors=True)
        build_base_model(world, base_model, building, progress=progress, device=device)
        os.replace(building, folder)
    return folder


def world_alphabet(world: WorldConfig) -> str:
    """Every character the world's three tasks and their prompts can use.

    A corpus may lack a task's documents (a task share of 0) or its native labels (shared
    markers), so characters that occur only in prompts, instructions and answer phrases, such as
    答 in "答えは", are added explicitly or they would be unknown tokens.
    """
    return "".join(sorted(set("".join(alphabet_texts(world)))))


def build_base_model(
    world: WorldConfig, base_model: BaseModelConfig, folder: Path, progress=None, device: str = "cpu"
) -> dict:
    """Generate the corpus, train the tokenizer, pretrain the model on `device`, save all to
    `folder`. The weights are initialised on the CPU whatever the device, so a seed gives the same
    start everywhere."""
    started = time.perf_counter()
    documents = pretraining_documents(world)
    texts = [doc.text for doc in documents]
    tokenizer = train_tokenizer(texts, world.vocab_size, alphabet=world_alphabet(world))
    tokenizer_seconds = time.perf_counter() - started

    torch.manual_seed(base_model.seed)
    model = LlamaForCausalLM(llama_config(base_model.size, len(tokenizer), tokenizer)).to(device)
    blocks = _token_blocks(tokenizer, texts, base_model.pretrain_seq_len)
    started_training = time.perf_counter()
    losses = pretrain(model, blocks, base_model, progress=progress)
    training_seconds = time.perf_counter() - started_training

    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    summary = {
        "world": to_plain(world),
        "base_model": {name: getattr(base_model, name) for name in PRETRAINING_FIELDS},
        "parameters": parameter_counts(model),
        "corpus_documents": len(texts),
        "corpus_tokens": int(blocks.numel()),
        "tokens_seen": base_model.pretrain_steps * base_model.pretrain_batch_size * base_model.pretrain_seq_len,
        "final_loss": sum(losses[-20:]) / len(losses[-20:]),
        "losses": losses,
        "seconds": {"tokenizer_and_corpus": tokenizer_seconds, "pretraining": training_seconds},
        "threads": torch.get_num_threads(),
    }
    (folder / "pretraining.json").write_text(json.dumps(summary, indent=1))
    return summary


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _torch_dtype(name: str) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, name)


def load_model(
    folder: str | Path, dtype: str = "auto", trust_remote_code: bool = False, attention: str = "auto"
) -> tuple[torch.nn.Module, PreTrainedTokenizerFast]:
    """Any causal LM (local folder or hub id) with safetensors weights, and its tokenizer.

    Pickled checkpoints are refused: loading one can run arbitrary code.
    """
    from transformers import AutoTokenizer

    if attention == "flash_attention_2" and not torch.cuda.is_available():  # before reading weights
        raise RuntimeError(
            "base_model.attention: 'flash_attention_2' needs a CUDA GPU (and the flash-attn package); "
            "none is visible: use auto or sdpa"
        )
    source = str(folder)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source,
            use_safetensors=True,
            dtype=_torch_dtype(dtype),
            trust_remote_code=trust_remote_code,
            attn_implementation=None if attention == "auto" else attention,
        )
    except (OSError, ValueError) as err:
        raise OSError(f"cannot load a causal LM with safetensors weights from {source!r}: {err}") from err
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token_id is None:  # many base checkpoints ship none; padding is masked anyway
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device())
    model.eval()
    return model, tokenizer


def load_with_unsloth(source: str, spec, config):
    """Model and tokenizer through unsloth's fused kernels; a clear error where it cannot run."""
    if not torch.cuda.is_available():
        raise RuntimeError("training.backend: 'unsloth' needs a CUDA GPU and none is visible; use backend: torch")
    try:
        from unsloth import FastLanguageModel
    except ImportError as err:
        raise RuntimeError("training.backend: 'unsloth' is not installed; pip install -e '.[gpu]'") from err
    model, tokenizer = FastLanguageModel.from_pretrained(
        source,
        dtype=_torch_dtype(spec.dtype),
        load_in_4bit=False,
        full_finetuning=config.method == "full",
        trust_remote_code=spec.trust_remote_code,
    )
    if config.method == "lora":
        model = FastLanguageModel.get_peft_model(
            model,
            r=config.lora_rank,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            use_gradient_checkpointing="unsloth" if config.gradient_checkpointing else False,
        )
    return model, tokenizer


def load_base_model(
    config, cache_dir: str | Path, progress=None
) -> tuple[torch.nn.Module, PreTrainedTokenizerFast, dict]:
    """The run's base model (pretrained on the world and cached, or a Hugging Face checkpoint),
    its tokenizer, and what the record keeps about it."""
    spec = config.base_model
    if spec.source == "world":
        folder = world_base_model(config.world, spec, cache_dir, progress=progress)
        source, info = str(folder), {"source": "world", "folder": folder.name, **describe(folder)}
    else:
        source, info = spec.source, {"source": spec.source}
    if config.training.backend == "unsloth":
        model, tokenizer = load_with_unsloth(source, spec, config.training)
    else:
        model, tokenizer = load_model(
            source, dtype=spec.dtype, trust_remote_code=spec.trust_remote_code, attention=spec.attention
        )
    info["parameters"] = parameter_counts(model)
    return model, tokenizer, info


def prompt_text(tokenizer, prompt: str, prompt_format: str = "plain") -> str:
    """The text the model sees before its answer: the prompt after BOS (plain, for base
    checkpoints) or wrapped in the tokenizer's chat template as one user turn (chat)."""
    if prompt_format == "chat":
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("base_model.prompt_format: 'chat' needs a tokenizer with a chat template")
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
        )
    return (tokenizer.bos_token or "") + prompt


def describe(folder: str | Path) -> dict:
    """What a run's record keeps about its world base model (no loss curve)."""
    summary = json.loads((Path(folder) / "pretraining.json").read_text())
    keep = ("parameters", "corpus_documents", "corpus_tokens", "tokens_seen", "final_loss", "seconds", "threads")
    return {key: summary[key] for key in keep}
