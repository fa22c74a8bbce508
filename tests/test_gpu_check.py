"""The GPU check's measuring code, run as CI runs it: the shell wrapper, on the CPU, tiny model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def gpu_check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # Run from a scratch folder: the wrapper must find the repository on its own.
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def test_tiny_cpu_run_reports_throughput_memory_and_mfu(tmp_path):
    out = tmp_path / "check.json"
    done = gpu_check("--device", "cpu", "--tiny", "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "GPU check summary" in done.stdout and "MFU" in done.stdout

    record = json.loads(out.read_text())
    run = record["runs"]["torch"]
    settings, shape, params = record["settings"], record["model"]["shape"], run["parameters"]
    assert run["tokens_per_second"] > 0
    assert run["tokens_per_step"] == settings["batch_size"] * settings["seq_len"]  # fixed length, no padding
    assert run["peak_memory"]["bytes"] > 0
    assert run["mfu"] > 0  # a ratio of two noisy timings: its size is for the report, not a test
    assert run["mfu_vendor_peak"] is None  # the H100 datasheet figure means nothing on a CPU
    assert len(run["step_seconds"]["all"]) == settings["steps"]
    assert params["total"] > params["non_embedding"] > 0
    assert params["trainable"] == params["total"]  # full fine-tuning
    # The tied LM head multiplies like any linear layer, so it counts though it is "embedding".
    assert params["in_matmuls"] > params["non_embedding"]
    attention = 12 * shape["num_hidden_layers"] * shape["hidden_size"] * settings["seq_len"]
    assert run["flops_per_token"] == 6 * params["in_matmuls"] + attention
    assert record["unsloth"]["status"].startswith("not tried")


def test_the_trainer_backend_is_measured_on_the_same_steps(tmp_path):
    out = tmp_path / "check.json"
    done = gpu_check("--device", "cpu", "--tiny", "--backend", "trainer", "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "via the trainer backend" in done.stdout
    record = json.loads(out.read_text())
    run, settings = record["runs"]["trainer"], record["settings"]
    assert set(record["runs"]) == {"trainer"}
    assert run["tokens_per_step"] == settings["batch_size"] * settings["seq_len"]
    assert run["tokens_per_second"] > 0 and run["mfu"] > 0
    assert len(run["step_seconds"]["all"]) == settings["steps"]
    assert record["unsloth"]["status"].startswith("not tried")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_fails_with_a_clear_message(tmp_path):
    done = gpu_check("--device", "cuda", "--tiny", cwd=tmp_path)
    assert done.returncode != 0
    assert "--device cuda" in done.stderr and "no CUDA device" in done.stderr
    assert "Traceback" not in done.stderr


def test_lora_counts_frozen_weights_in_the_forward_pass_and_only_adapters_as_trained():
    from transformers import LlamaConfig, LlamaForCausalLM

    from cltbook.config import TrainingConfig
    from cltbook.pipeline.train import add_lora
    from tools.gpu_check import flops_per_token, matmul_counts

    shape = dict(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        intermediate_size=64,
        vocab_size=100,
    )
    model = LlamaForCausalLM(LlamaConfig(**shape, tie_word_embeddings=True))
    base = matmul_counts(model)
    assert base["in_matmuls"] == base["trainable_in_matmuls"]
    add_lora(model, TrainingConfig(method="lora", lora_rank=4))
    lora = matmul_counts(model)
    # rank * (in + out) per adapted layer: q, k, v, o (32 -> 32) and gate, up (32 -> 64), down (64 -> 32)
    adapters = 4 * (4 * (32 + 32) + 3 * (32 + 64))
    assert lora == {"in_matmuls": base["in_matmuls"] + adapters, "trainable_in_matmuls": adapters}
    seq_len = 16
    assert flops_per_token(lora, shape, seq_len) == (
        4 * (base["in_matmuls"] + adapters) + 2 * adapters + 12 * 1 * 32 * seq_len
    )
