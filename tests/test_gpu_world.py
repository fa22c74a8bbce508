"""The scale run's code path, run as CI runs it: the shell wrapper, on the CPU, tiny preset."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_world.sh"
LANGUAGES = {"en", "es", "fr", "ja", "zh", "ar", "ko", "pt"}


def gpu_world(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # Run from a scratch folder: the wrapper must find the repository on its own.
    env = {**os.environ, "PYTHON": sys.executable, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def test_tiny_cpu_run_writes_scores_per_size_and_n_for_every_language(tmp_path):
    out = tmp_path / "world.json"
    done = gpu_world("--device", "cpu", "--tiny", "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "gpu_world: wrote" in done.stdout

    record = json.loads(out.read_text())
    assert record["complete"] and record["preset"]["name"] == "tiny"
    assert record["device"] == {"kind": "cpu", "name": record["environment"]["device_name"], "tf32_matmul": False}
    assert record["torch"] == torch.__version__
    assert record["commit"] and "--tiny" in record["command"]
    sizes = record["preset"]["sizes"]
    assert set(record["sizes"]) == set(sizes)
    for size in record["sizes"].values():
        assert size["parameters"]["total"] > size["parameters"]["non_embedding"] > 0
        pretraining = size["pretraining"]
        assert pretraining["tokens"] == pretraining["steps"] * pretraining["tokens_per_step"] > 0
        assert pretraining["seconds"] > 0
    assert [(run["size"], run["n_per_language"]) for run in record["runs"]] == [
        (size, n) for size in sizes for n in record["n_per_language"]
    ]
    assert record["n_per_language"] == [0, 100]
    for run in record["runs"]:
        assert run["config"]["mixture"]["n_per_language"] == run["n_per_language"]
        assert run["seconds"]["total"] >= run["seconds"]["finetuning"] + run["seconds"]["evaluation"] > 0
        assert set(run["metrics"]) == {"accuracy_strict_switch_aware", "language_match"}
        for values in run["metrics"].values():
            assert set(values["languages"]) == LANGUAGES
            for value in (values["english"], values["seen"], values["unseen"], *values["languages"].values()):
                assert 0.0 <= value <= 1.0
            seen = [values["languages"][code] for code in ("es", "fr", "ja", "zh")]
            assert values["seen"] == pytest.approx(sum(seen) / len(seen))

    from cltbook.report.world_scale import results_table

    table = results_table(record)
    assert len(table) == 2 * len(record["runs"])  # one row per run and metric


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_fails_with_a_clear_message(tmp_path):
    done = gpu_world("--device", "cuda", "--tiny", "--json", str(tmp_path / "no.json"), cwd=tmp_path)
    assert done.returncode != 0
    assert "gpu_world: --device cuda" in done.stderr and "no CUDA device" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "no.json").exists()


def test_an_unknown_size_is_named(tmp_path):
    done = gpu_world("--device", "cpu", "--sizes", "small,huge", cwd=tmp_path)
    assert done.returncode == 2
    assert "--sizes" in done.stderr and "'huge'" in done.stderr and "large" in done.stderr
