"""The real-model path, offline: a tiny random Llama saved as a Hugging Face folder goes through
the run notebook on real MGSM items and learns to answer them (slow tier)."""

import json
import shutil

import pandas as pd
import pytest
from transformers import LlamaConfig, LlamaForCausalLM

from cltbook.config import run_config
from cltbook.models import train_tokenizer
from cltbook.store import MANIFEST, PREDICTIONS, RECORD
from cltbook.study import execute_run

from conftest import ROOT

pytestmark = pytest.mark.slow

ITEMS = 12  # per language: 8 to learn, 4 held out for validation


@pytest.fixture()
def mgsm_subset(reference, tmp_path):
    folder = tmp_path / "mgsm"
    folder.mkdir()
    for code in ("en", "es"):
        lines = (reference / "mgsm" / f"mgsm_{code}.tsv").read_text(encoding="utf-8").splitlines()
        (folder / f"mgsm_{code}.tsv").write_text("\n".join(lines[:ITEMS]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture()
def tiny_llama(mgsm_subset, tmp_path):
    """Random weights, a tokenizer trained on the items, saved like any hub checkpoint."""
    texts = [line for f in mgsm_subset.iterdir() for line in f.read_text(encoding="utf-8").splitlines()]
    prefixes = "Question: Step-by-Step Answer: The answer is Pregunta: Respuesta paso a paso: La respuesta es"
    tokenizer = train_tokenizer(texts + [prefixes], vocab_size=600, alphabet="".join(texts) + prefixes + "0123456789.")
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    ))
    folder = tmp_path / "tiny-llama"
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_tiny_hf_model_learns_real_mgsm_items_through_the_notebook(mgsm_subset, tiny_llama, tmp_path):
    source = {"loader": "mgsm", "path": str(mgsm_subset)}
    config = run_config({
        "study": "real-smoke",
        "seen_languages": ["es"],
        "unseen_languages": [],
        "data": {"source": "real", "train": {"math_reasoning": source},
                 "evaluation": {"math_reasoning": source}, "allow_eval_in_train": True},
        "base_model": {"source": str(tiny_llama)},
        "mixture": {"anchor_examples": 8, "n_per_language": 8},
        "training": {"max_steps": 150, "batch_size": 8, "learning_rate": 3e-3, "warmup_steps": 10,
                     "eval_every": 50, "validation_per_language": 4},
        "evaluation": {"items_per_language": ITEMS, "max_new_tokens": 16},
    })
    run_dir = tmp_path / "run"
    record = execute_run(config, run_dir, ROOT, tmp_path / "cache", threads=2)
    assert record["status"] == "ok", record.get("traceback")
    assert record["base_model"]["source"] == str(tiny_llama)
    assert record["data"]["sources"]["evaluation.math_reasoning"]["missing_languages"] == []

    manifest = pd.read_parquet(run_dir / MANIFEST)
    learned = set(manifest[(manifest["split"] == "train") & (manifest["language"] == "en")]["item_id"])
    assert len(learned) == 8
    predictions = pd.read_parquet(run_dir / PREDICTIONS)
    english = predictions[(predictions["language"] == "en") & predictions["item_id"].isin(learned)]
    assert len(english) == 8
    assert english["accuracy_strict"].sum() >= 7, english[["output", "gold"]].to_string()
    shutil.rmtree(run_dir)
