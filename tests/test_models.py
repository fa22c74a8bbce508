"""Base models: the tokenizer covers the world, and a base model is built once per config."""

import json

import pytest

from cltbook.config import BaseModelConfig, WorldConfig, base_model_key
from cltbook.languages import WORLD_LANGUAGES
from cltbook.pipeline.models import (
    MODEL_SIZES,
    load_model,
    parameter_counts,
    train_tokenizer,
    world_alphabet,
    world_base_model,
)
from cltbook.world import problems, render

TINY_WORLD = WorldConfig(corpus_documents=300, vocab_size=400)
TINY_MODEL = BaseModelConfig(size="micro", pretrain_steps=3, pretrain_batch_size=4, pretrain_seq_len=32)


@pytest.fixture(scope="module")
def tokenizer():
    from cltbook.world import pretraining_documents

    texts = [d.text for d in pretraining_documents(TINY_WORLD)]
    return train_tokenizer(texts, 400, alphabet=world_alphabet(TINY_WORLD))


@pytest.mark.parametrize("language", WORLD_LANGUAGES)
def test_every_rendered_problem_round_trips_without_unknown_tokens(tokenizer, language):
    for problem in problems("eval", 30):
        rendered = render(problem, language)
        for text in (rendered.question, rendered.solution):
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            assert tokenizer.unk_token_id not in ids, text
            assert tokenizer.decode(ids) == text


def test_cjk_is_split_per_character_and_digits_one_by_one(tokenizer):
    tokens = tokenizer.tokenize("マリアは12個")
    assert "1" in tokens and "2" in tokens
    assert all(len(t.lstrip("▁")) <= 1 for t in tokens)


def test_base_model_is_cached_by_its_config(tmp_path):
    folder = world_base_model(TINY_WORLD, TINY_MODEL, tmp_path)
    assert folder.name == base_model_key(TINY_WORLD, TINY_MODEL)
    assert (folder / "model.safetensors").is_file()
    summary = json.loads((folder / "pretraining.json").read_text())
    assert len(summary["losses"]) == 3
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert world_base_model(TINY_WORLD, TINY_MODEL, tmp_path) == folder  # a hit: nothing rebuilt
    assert (folder / "model.safetensors").stat().st_mtime_ns == before
    other = BaseModelConfig(size="micro", pretrain_steps=4, pretrain_batch_size=4, pretrain_seq_len=32)
    assert base_model_key(TINY_WORLD, other) != folder.name
    model, tok = load_model(folder)
    counts = parameter_counts(model)
    assert 0 < counts["non_embedding"] < counts["total"]


def test_sizes_span_an_order_of_magnitude():
    from transformers import LlamaForCausalLM

    from cltbook.pipeline.models import llama_config

    class FakeTokenizer:
        bos_token_id, eos_token_id, pad_token_id = 1, 2, 0

    counts = {
        size: parameter_counts(LlamaForCausalLM(llama_config(size, 1000, FakeTokenizer())))["non_embedding"]
        for size in MODEL_SIZES
    }
    assert counts["micro"] < counts["tiny"] < counts["small"] < counts["medium"]
    assert counts["medium"] / counts["tiny"] >= 10


def test_the_world_card_describes_corpus_loss_and_overlap(tmp_path):
    import numpy as np

    from cltbook.pipeline import worldcard

    folder = world_base_model(TINY_WORLD, TINY_MODEL, tmp_path)
    model, tok = load_model(folder)
    tables = worldcard.ensure(folder, model, tok, TINY_WORLD, TINY_MODEL)
    corpus, loss, overlap = tables["corpus"], tables["loss"], tables["overlap"]
    assert set(corpus["language"]) == set(WORLD_LANGUAGES)
    assert corpus["token_share"].sum() == pytest.approx(1.0)
    for _, row in loss.iterrows():
        assert row["ci_low"] <= row["loss"] <= row["ci_high"] and row["documents"] > 0
    assert set(loss["predictor"]) == {"model", "unigram"}
    matrix = overlap.pivot(index="language", columns="other", values="jaccard")
    assert np.allclose(np.diag(matrix), 1.0) and np.allclose(matrix, matrix.T)
    assert matrix.loc["es", "pt"] > matrix.loc["es", "ja"]  # shared script and words
    # computed once: the second call reads the saved tables
    stamp = (folder / "card" / "loss.parquet").stat().st_mtime_ns
    again = worldcard.ensure(folder, model, tok, TINY_WORLD, TINY_MODEL)
    assert (folder / "card" / "loss.parquet").stat().st_mtime_ns == stamp
    assert again["loss"].equals(loss)


BUILD_SCRIPT = """
import sys
from cltbook.config import BaseModelConfig, WorldConfig, base_model_key
from cltbook.pipeline.models import world_base_model
import torch
torch.set_num_threads(1)
world_base_model(WorldConfig(corpus_documents=300, vocab_size=400),
                 BaseModelConfig(size="micro", pretrain_steps=3, pretrain_batch_size=4, pretrain_seq_len=32),
                 sys.argv[1])
"""


def test_two_fresh_processes_build_byte_identical_models(tmp_path):
    import hashlib
    import subprocess
    import sys

    digests = []
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-c", BUILD_SCRIPT, str(tmp_path / name)], check=True)
        (folder,) = [p for p in (tmp_path / name / "base_models").iterdir() if p.is_dir()]
        files = {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())
            if p.name in ("model.safetensors", "tokenizer.json", "config.json")
        }
        digests.append(files)
    assert len(digests[0]) == 3 and digests[0] == digests[1]


def _tiny_hf_folder(folder, tokenizer, architecture: str = "llama"):
    """A random causal LM of ``architecture`` saved like a hub checkpoint."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    config_class, model_class = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM)}[
        architecture
    ]
    model = model_class(
        config_class(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("architecture", ["llama", "qwen2"])
def test_any_causal_lm_folder_loads_in_float32_on_the_cpu(tokenizer, tmp_path, architecture):
    folder = _tiny_hf_folder(tmp_path / architecture, tokenizer, architecture=architecture)
    model, loaded = load_model(folder)
    assert model.config.model_type == architecture and next(model.parameters()).dtype.is_floating_point
    assert str(next(model.parameters()).dtype) == "torch.float32"  # auto: bfloat16 only on a GPU
    assert loaded.pad_token_id == tokenizer.pad_token_id


def test_pickled_weights_are_refused_naming_the_folder(tokenizer, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    folder = _tiny_hf_folder(tmp_path / "pickled", tokenizer)
    state = AutoModelForCausalLM.from_pretrained(folder).state_dict()
    (folder / "model.safetensors").unlink()  # the same weights, pickled as older checkpoints ship them
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(OSError, match=r"cannot load a causal LM with safetensors weights from '.*pickled'"):
        load_model(folder)


def test_unsloth_without_cuda_says_what_to_do(monkeypatch):
    import torch

    from cltbook.config import TrainingConfig
    from cltbook.pipeline.models import load_with_unsloth

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        RuntimeError, match="training.backend: 'unsloth' needs a CUDA GPU and none is visible; use backend: torch"
    ):
        load_with_unsloth("any/model", BaseModelConfig(), TrainingConfig(backend="unsloth"))


def test_remote_code_is_off_unless_asked():
    assert BaseModelConfig().trust_remote_code is False and BaseModelConfig().prompt_format == "plain"
