"""Where a run's fine-tuning executes: in this process, or sharded over several.

``training.distributed.strategy: none`` trains in the notebook's own process, with the loop
``training.backend`` names (:func:`cltbook.pipeline.train.finetune`, or transformers' Trainer in
:func:`cltbook.pipeline.hf_trainer.finetune`). ``fsdp`` shards one run's full fine-tuning over
``training.distributed.processes`` processes with torch's FSDP (``fully_shard``: each decoder layer,
then the whole model, so parameters, gradients and optimizer state are split ``processes`` ways):
one process per GPU with NCCL, or CPU processes with gloo (how the tests run it). The notebook stays
the unit of work: :func:`finetune` writes the base model and the examples to a scratch folder,
starts ``torch.distributed.run`` on this module, and loads the trained weights back, so evaluation
runs on one process as for any run. Every process runs the same loop as a single-process run on an
equal slice of each global batch (``training.batch_size``); the loss is scaled so that the averaged
gradient is the whole batch's, and a sharded run computes what one process would, to float
rounding (``tests/test_sharded.py`` checks the loss curve and the checkpoint).

With ``backend: trainer`` each process runs the Trainer instead, which shards the model itself
(accelerate's FSDP2, GPUs only); the batches, schedule and result are the same.

On GPUs, parameters are kept in float32 and computed in bfloat16 (FSDP's mixed precision); how many
GPUs the run holds on a cluster is the executor's business (``cltbook run --gpus-per-run N``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from cltbook.config import TrainingConfig, from_dict
from cltbook.example import Example
from cltbook.pipeline import hf_trainer
from cltbook.pipeline.train import TrainingResult
from cltbook.pipeline.train import finetune as finetune_here

_PROGRESS = "cltbook-progress"


def finetune(
    model,
    tokenizer,
    train: Sequence[Example],
    validation: Sequence[Example],
    config: TrainingConfig,
    seed: int,
    prompt_format: str = "plain",
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainingResult:
    """Fine-tune ``model`` in place, here or sharded as ``config.distributed`` says; the same
    arguments and result as :func:`cltbook.pipeline.train.finetune`."""
    if config.distributed.strategy == "none":
        return _backend(config)(model, tokenizer, train, validation, config, seed, prompt_format, progress)
    hf_trainer.refuse_cpu_sharding(config)  # before any work
    device = next(model.parameters()).device
    with tempfile.TemporaryDirectory(prefix="cltbook-sharded-") as scratch:
        work = Path(scratch)
        model.save_pretrained(work / "base", safe_serialization=True)
        model.to("cpu")  # the GPUs are the training processes' while they run
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        tokenizer.save_pretrained(work / "base")
        job = {
            "train": [_text_of(example) for example in train],
            "validation": [_text_of(example) for example in validation],
            "training": dataclasses.asdict(config),
            "seed": seed,
            "prompt_format": prompt_format,
        }
        (work / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        _launch(work, config.distributed.processes, progress)
        trained = load_file(work / "trained.safetensors")
        model.load_state_dict(trained, strict=False)  # tied weights are saved once
        missing = set(_untied(model.state_dict())) - set(trained)
        if missing:
            raise RuntimeError(f"the sharded run saved no weights for {sorted(missing)[:5]}")
        model.to(device).eval()
        result = json.loads((work / "result.json").read_text(encoding="utf-8"))
    return TrainingResult(**result)


def _backend(config: TrainingConfig):
    """The training loop of ``training.backend``: transformers' Trainer, or the plain loop (which
    also trains unsloth's models)."""
    return hf_trainer.finetune if config.backend == "trainer" else finetune_here


def _text_of(example: Example) -> dict:
    """What training reads of an example (its scoring checks stay behind)."""
    return {name: getattr(example, name) for name in ("task", "language", "item_id", "prompt", "completion")}


def _launch(work: Path, processes: int, progress) -> None:
    """``torch.distributed.run`` on this module; streams rank 0's progress; raises with the
    output's tail when a process fails."""
    environment = dict(os.environ)
    if not torch.cuda.is_available():  # CPU processes share the cores this run was given
        environment["OMP_NUM_THREADS"] = str(max(1, torch.get_num_threads() // processes))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        "-m",
        "cltbook.pipeline.launch",
        str(work),
    ]
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    ) as process:
        for line in process.stdout:
            if line.startswith(_PROGRESS):
                _, step, total, loss = line.split()
                if progress is not None:
                    progress(int(step), int(total), float(loss))
            else:
                lines.append(line)
    if process.returncode:
        # the processes' own output, before the launcher's summary of which rank failed
        end = next((i for i, line in enumerate(lines) if "torch/distributed/elastic" in line), len(lines))
        tail = "".join(lines[max(0, end - 30) : end]) or "".join(lines[-30:])
        raise RuntimeError(f"the sharded training ({processes} processes) failed, exit {process.returncode}:\n{tail}")


def _untied(state: dict) -> dict:
    """A state dict with each storage once, under its first name (tied weights are saved once)."""
    unique, seen = {}, set()
    for name, tensor in state.items():
        if tensor.data_ptr() not in seen:
            seen.add(tensor.data_ptr())
            unique[name] = tensor
    return unique


def shard(model) -> None:
    """FSDP's full sharding: every decoder layer (the model's ``_no_split_modules``), then the
    root; bfloat16 compute with float32 parameters on GPUs."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    policy = (
        MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
        if torch.cuda.is_available()
        else MixedPrecisionPolicy()
    )
    layer_types = tuple(getattr(model, "_no_split_modules", None) or ())
    for module in model.modules():
        if type(module).__name__ in layer_types:
            fully_shard(module, mp_policy=policy)
    fully_shard(model, mp_policy=policy)


def _worker(work: Path) -> None:
    """One process of a sharded run (started by torch.distributed.run)."""
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    try:
        job = json.loads((work / "job.json").read_text(encoding="utf-8"))
        config = from_dict(TrainingConfig, job["training"], "training")
        tokenizer = AutoTokenizer.from_pretrained(work / "base")
        model = AutoModelForCausalLM.from_pretrained(work / "base", dtype=torch.float32)
        if cuda:
            model.to(torch.device("cuda", torch.cuda.current_device()))
        if config.backend != "trainer":  # the Trainer shards the model itself (accelerate's FSDP2)
            shard(model)

        def report(step: int, total: int, loss: float) -> None:
            if rank == 0:
                print(f"{_PROGRESS} {step} {total} {loss:.6f}", flush=True)

        result = _backend(config)(
            model,
            tokenizer,
            [Example(**example) for example in job["train"]],
            [Example(**example) for example in job["validation"]],
            config,
            job["seed"],
            job["prompt_format"],
            report,
            rank=rank,
            world_size=world_size,
        )
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        # every process takes part in gathering the full weights; the first writes them
        full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        if rank == 0:
            unique = {name: tensor.detach().to(torch.float32).contiguous() for name, tensor in _untied(full).items()}
            save_file(unique, str(work / "trained.safetensors"))
            payload = dataclasses.asdict(result)
            (work / "result.json").write_text(json.dumps(payload), encoding="utf-8")
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
