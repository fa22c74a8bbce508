"""Padding-free packing against padded batches, run on demand: `python bench/packing.py [--quick]`.

Writes bench/packing.json, which the book's benchmark page reads. The same fine-tuning (the
world's base model, the three tasks' mixture, whose examples differ in length, the same batches
and steps, validation off) three ways, with interleaved repeats in one process:

- ``torch``: the plain loop (padded batches), the world's fast path;
- ``trainer``: transformers' Trainer, padded batches;
- ``trainer+packing``: the Trainer with ``DataCollatorWithFlattening``, each batch one row.

Reported: seconds per run, real (non-padding) tokens per second, the padding share of the
positions computed, and the ratios between the three, plus the final training losses (equal to
float rounding: packing changes the layout, not the loss).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cltbook.config import run_config  # noqa: E402
from cltbook.data import mixture as task_data  # noqa: E402
from cltbook.pipeline import hf_trainer, train  # noqa: E402
from cltbook.pipeline.models import load_base_model, parameter_counts  # noqa: E402

WAYS = {
    "torch": ("torch", False),
    "trainer": ("trainer", False),
    "trainer+packing": ("trainer", True),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few steps on a briefly pretrained model")
    parser.add_argument("--cache-dir", default=str(ROOT / ".cache"))
    parser.add_argument("--size", default="small")
    args = parser.parse_args()
    steps, repeats = (4, 1) if args.quick else (40, 3)
    config = run_config(
        {
            "tasks": ["math_reasoning", "summarization", "instruction_following"],
            "base_model": {"size": args.size, "pretrain_steps": 10 if args.quick else 700},
            "world": {"corpus_documents": 2000} if args.quick else {},
            "mixture": {"anchor_examples": 500, "n_per_language": 100},
            "training": {
                "max_steps": steps,
                "batch_size": 16,
                "eval_every": 10**6,
                "select_checkpoint": "last",
                "validation_per_language": 1,
            },
        }
    )
    model, tokenizer, _ = load_base_model(config, args.cache_dir)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    mixture = task_data.build_mixture(config)

    seconds = {way: [] for way in WAYS}
    results = {}
    for _ in range(repeats):  # interleaved: ABCABC...
        for way, (backend, packing) in WAYS.items():
            model.load_state_dict(initial)
            training = dataclasses.replace(config.training, backend=backend, packing=packing)
            finetune = hf_trainer.finetune if backend == "trainer" else train.finetune
            started = time.perf_counter()
            results[way] = finetune(model, tokenizer, mixture.train, mixture.validation[:1], training, seed=0)
            seconds[way].append(time.perf_counter() - started)

    tokens = results["torch"].tokens
    ways = {}
    for way in WAYS:
        result, median = results[way], statistics.median(seconds[way])
        positions = result.tokens + result.padding_tokens
        ways[way] = {
            "seconds": seconds[way],
            "median_seconds": median,
            "tokens_per_second": result.tokens / median,
            "padding_share": result.padding_tokens / positions,
            "final_loss": result.train_losses[-1],
        }
    report = {
        "machine": {"platform": platform.platform(), "threads": torch.get_num_threads(), "torch": torch.__version__},
        "model": {"size": args.size, **parameter_counts(model)},
        "steps": steps,
        "batch_size": config.training.batch_size,
        "repeats": repeats,
        "tokens_per_run": tokens,
        "ways": ways,
        "packed_over_padded": ways["trainer"]["median_seconds"] / ways["trainer+packing"]["median_seconds"],
        "torch_over_trainer": ways["trainer"]["median_seconds"] / ways["torch"]["median_seconds"],
        "command": "python bench/packing.py" + (" --quick" if args.quick else ""),
    }
    out = ROOT / "bench" / ("packing-quick.json" if args.quick else "packing.json")
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: report[k] for k in ("ways", "packed_over_padded", "torch_over_trainer")}, indent=1))


if __name__ == "__main__":
    main()
