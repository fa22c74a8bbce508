"""The real-model path, offline (slow tier): tiny random Hugging Face models saved like hub
checkpoints go through the run notebook. A Llama learns real MGSM items (answer-only loss,
generation, extraction); a Qwen2 with a chat template is fine-tuned on summarization and
instruction following from real text and judged over HTTP by a local server, and the judge's key
is found in no file the run writes."""

import shutil

import pandas as pd
import pytest
from conftest import ROOT
from transformers import LlamaConfig, LlamaForCausalLM

from cltbook.config import run_config
from cltbook.pipeline.models import train_tokenizer
from cltbook.pipeline.store import MANIFEST, PREDICTIONS
from cltbook.sweep.runner import execute_run

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
    return save_random_model(
        LlamaForCausalLM,
        LlamaConfig,
        tokenizer,
        tmp_path / "tiny-llama",
        num_key_value_heads=4,
        max_position_embeddings=512,
    )


def save_random_model(model_class, config_class, tokenizer, folder, seed=0, **shape):
    """A 2-layer model of ``model_class`` with random weights drawn from ``seed``, saved with its
    tokenizer like a hub checkpoint (safetensors). The draw uses a forked RNG: the weights do not
    depend on what earlier tests did with torch's global generator, nor change it."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = model_class(
            config_class(
                vocab_size=len(tokenizer),
                hidden_size=64,
                intermediate_size=128,
                num_hidden_layers=2,
                num_attention_heads=4,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
                **shape,
            )
        )
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    "settings",
    [{}, {"distributed": {"strategy": "fsdp", "processes": 2}}, {"backend": "trainer"}],
    ids=["one-process", "fsdp-two-processes", "trainer-backend"],
)
def test_a_tiny_hf_model_learns_real_mgsm_items_through_the_notebook(mgsm_subset, tiny_llama, tmp_path, settings):
    """Answer-only loss, generation and extraction on real MGSM items: the model memorises 8
    English and 8 Spanish items and must answer the English ones.

    This test once passed alone and failed one time in four in company (6 of 8 right). Two causes,
    found by re-running it with the weights drawn from seeds 0-5:
    - the random weights were drawn from torch's global generator, so they depended on what the
      tests before it had drawn (alone and in company the model started elsewhere); they now come
      from a fixed seed in a forked generator (``save_random_model``);
    - the checkpoint was chosen by validation loss on 4 held-out items, which is lowest at step 50
      of 150, long before memorisation ends: every seed kept step 50 and scored 7 or 8 of 8, so
      one unlucky start fell below the bar. Now the last weights are kept and training runs until
      the mean training loss over a pass is below 0.02 (capped at 400 steps): every seed stopped at
      74-80 steps with 8 of 8 right.
    Load on the cores changes neither (the determinism test in test_reliability runs under load).
    The same run sharded over two CPU processes (FSDP, gloo), and the same run through
    transformers' Trainer (``backend: trainer``), must learn them as well.
    """
    source = {"loader": "mgsm", "path": str(mgsm_subset)}
    config = run_config(
        {
            "study": "real-smoke",
            "seen_languages": ["es"],
            "unseen_languages": [],
            "data": {
                "source": "real",
                "train": {"math_reasoning": source},
                "evaluation": {"math_reasoning": source},
                "allow_eval_in_train": True,
            },
            "base_model": {"source": str(tiny_llama)},
            "mixture": {"anchor_examples": 8, "n_per_language": 8},
            "training": {
                "max_steps": 400,
                "batch_size": 8,
                "learning_rate": 3e-3,
                "warmup_steps": 10,
                "eval_every": 50,
                "validation_per_language": 4,
                "select_checkpoint": "last",
                "stop_at_train_loss": 0.02,
                **settings,
            },
            "evaluation": {"items_per_language": ITEMS, "max_new_tokens": 16},
        }
    )
    run_dir = tmp_path / "run"
    record = execute_run(config, run_dir, ROOT, tmp_path / "cache", threads=2)
    assert record["status"] == "ok", record.get("traceback")
    assert record["base_model"]["source"] == str(tiny_llama)
    assert record["data"]["sources"]["evaluation.math_reasoning"]["missing_languages"] == []
    assert record["training"]["steps"] < 400, "the training loss never reached its target"
    assert record["training"]["world_size"] == settings.get("distributed", {}).get("processes", 1)
    assert record["training"]["backend"] == settings.get("backend", "torch")

    manifest = pd.read_parquet(run_dir / MANIFEST)
    learned = set(manifest[(manifest["split"] == "train") & (manifest["language"] == "en")]["item_id"])
    assert len(learned) == 8
    predictions = pd.read_parquet(run_dir / PREDICTIONS)
    english = predictions[(predictions["language"] == "en") & predictions["item_id"].isin(learned)]
    assert len(english) == 8
    assert english["accuracy_strict"].sum() >= 7, english[["output", "gold"]].to_string()
    shutil.rmtree(run_dir)


# ---------------------------------------------------------------------------------------------
# Summarization and instruction following on real text, judged over HTTP, with a Qwen2 model


@pytest.fixture()
def tiny_qwen_chat(reference, tmp_path):
    """A random Qwen2-architecture model whose tokenizer has a chat template, saved like a hub
    instruction-tuned checkpoint."""
    from real_sources import flores
    from transformers import Qwen2Config, Qwen2ForCausalLM

    texts = [s for code in ("en", "es", "ja", "ko") for s in flores(reference, code)[:1000]]
    template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    labels = "<|user|><|assistant|>Summary: Resumen: 要約： 요약:"
    tokenizer = train_tokenizer(texts + [labels], vocab_size=800, alphabet="".join(texts) + labels)
    tokenizer.chat_template = template
    return save_random_model(
        Qwen2ForCausalLM,
        Qwen2Config,
        tokenizer,
        tmp_path / "tiny-qwen2-chat",
        num_key_value_heads=2,
        max_position_embeddings=1024,
    )


def test_summaries_and_judged_instructions_through_the_notebook_never_saving_the_key(
    reference, tiny_qwen_chat, server, monkeypatch, tmp_path
):
    from conftest import KEY_ENV, SECRET
    from real_sources import write_aya_dolly, write_sharegpt, write_xlsum

    from cltbook.scoring.judge import build_judge_messages

    monkeypatch.setenv(KEY_ENV, SECRET)  # the notebook's kernel inherits it; nothing may save it
    xlsum = write_xlsum(reference, tmp_path / "xlsum", {"en": (12, 3), "es": (9, 3), "ja": (0, 3)}, bad_line={"en": 4})
    chats = write_sharegpt(reference, tmp_path / "chats.jsonl", {"en": 10, "es": 8})
    dolly = write_aya_dolly(reference, tmp_path / "dolly.jsonl", ["en", "es", "ja", "ko"], 2)
    judge = {"model": "judge-test", "base_url": f"http://127.0.0.1:{server.server_port}/v1", "api_key_env": KEY_ENV}
    server.script.append(("ok", "I cannot rate this response."))  # the first item: a counted failure
    config = run_config(
        {
            "study": "real-smoke",
            "tasks": ["summarization", "instruction_following"],
            "seen_languages": ["es"],
            "unseen_languages": ["ja", "ko"],
            "data": {
                "source": "real",
                "on_bad_record": "skip_and_report",
                "max_bad_fraction": 0.1,
                "train": {
                    "summarization": {"loader": "xlsum", "path": str(xlsum), "max_input_chars": 300},
                    "instruction_following": {"loader": "sharegpt", "path": str(chats)},
                },
                "evaluation": {
                    "summarization": {"loader": "xlsum", "path": str(xlsum), "split": "test", "max_input_chars": 300},
                    "instruction_following": {"loader": "aya_dolly", "path": str(dolly), "judge": judge},
                },
            },
            "base_model": {"source": str(tiny_qwen_chat), "prompt_format": "chat"},
            "mixture": {"anchor_examples": 6, "n_per_language": 4},
            "training": {
                "max_steps": 10,
                "batch_size": 4,
                "learning_rate": 1e-3,
                "warmup_steps": 2,
                "eval_every": 5,
                "validation_per_language": 2,
            },
            "evaluation": {"items_per_language": 3, "max_new_tokens": 12},
        }
    )
    run_dir = tmp_path / "run"
    record = execute_run(config, run_dir, ROOT, tmp_path / "cache", threads=2)
    assert record["status"] == "ok", record.get("traceback")
    assert record["config"]["base_model"]["prompt_format"] == "chat"

    sources = record["data"]["sources"]
    [bad] = sources["train.summarization"]["bad_records"]
    assert (bad["file"], bad["line"], sources["train.summarization"]["n_bad_records"]) == (
        str(xlsum / "english_train.jsonl"),
        4,
        1,
    )
    assert sources["evaluation.summarization"]["missing_languages"] == ["ko"]
    assert sources["evaluation.instruction_following"]["missing_languages"] == []
    scoring = record["scoring"]
    assert any("unidic-lite" in d for d in scoring["summarization"]["ja"]["deviations"])
    assert scoring["instruction_following"]["api_key_env"] == KEY_ENV

    predictions = pd.read_parquet(run_dir / PREDICTIONS)
    judged = predictions[predictions["task"] == "instruction_following"]
    assert len(judged) == 4 * 2 and len(server.recorded) == 8
    sent = [request["body"]["messages"] for request in server.recorded]
    assert sent == [build_judge_messages(row.prompt, row.output, row.language) for row in judged.itertuples()]
    assert judged["judge_unparsed"].tolist() == [1.0] + [0.0] * 7
    assert judged["judge_score"].iloc[1:].eq(0.5).all()  # "Rating: 3" = (3 - 1) / 4
    summaries = predictions[predictions["task"] == "summarization"]
    assert sorted(summaries["language"].unique()) == ["en", "es", "ja"]
    assert summaries["rougeL_xlsum"].between(0, 1).all()
    assert summaries["prompt"].str.startswith("<|user|>").sum() == 0  # prompts are stored before the template

    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"executed.ipynb", "record.json", "parameters.yaml", "run.log"}
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
