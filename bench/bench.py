"""Benchmarks, run on demand (never in the tests): `python bench/bench.py [--quick]`.

Writes bench/results.json, which the book's benchmark page reads. Each measurement is a ratio
between two ways of doing the same work, measured in the same process with interleaved repeats,
because these machines are noisy:

- fine-tuning: `cltbook.pipeline.train.finetune` against the plain PyTorch loop printed on the page (same
  model, batches, optimizer, dtype and threads);
- model FLOPs utilisation of that fine-tuning: 6·N·tokens plus attention, over the best fp32 GEMM
  rate measured over square sizes 512–4096 at the same thread count;
- generation: `cltbook.pipeline.evaluate.generate` batched against one prompt at a time (same function, KV
  cache both ways), with the share of identical greedy outputs and non-pad tokens counted.
"""

from __future__ import annotations

import argparse
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
from cltbook.pipeline.evaluate import generate  # noqa: E402
from cltbook.pipeline.models import load_base_model, parameter_counts  # noqa: E402
from cltbook.pipeline.train import batch_order, collate, encode_example, finetune  # noqa: E402

PLAIN_LOOP = '''
def plain_loop(model, batches, lr, steps):
    """The reference: AdamW, completion loss, gradient clipping, no bookkeeping."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    model.train()
    for step in range(steps):
        batch = batches[step % len(batches)]
        logits = model(input_ids=batch["input_ids"],
                       attention_mask=batch["attention_mask"]).logits.float()
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)),
            batch["labels"][:, 1:].reshape(-1), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        loss.item()  # the per-step read-back a training loop logs
    model.eval()
'''
exec(PLAIN_LOOP)  # the page prints exactly this text


def best_gemm_flops(threads: int) -> dict:
    rates = {}
    for n in (512, 1024, 2048, 4096):
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        times = []
        for _ in range(3 if n < 4096 else 2):
            started = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - started)
        rates[n] = 2 * n**3 / min(times)
    return {
        "threads": threads,
        "gflops_by_size": {k: v / 1e9 for k, v in rates.items()},
        "best_gflops": max(rates.values()) / 1e9,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few steps only (checks the script)")
    parser.add_argument("--cache-dir", default=str(ROOT / ".cache"))
    parser.add_argument("--size", default="tiny")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    steps, repeats = (5, 1) if args.quick else (60, 5)
    config = run_config(
        {
            "base_model": {"size": args.size, "pretrain_steps": 10 if args.quick else 700},
            "world": {"corpus_documents": 2000} if args.quick else {},
            "mixture": {"anchor_examples": 500},
            "evaluation": {"items_per_language": 25},
            "training": {
                "max_steps": steps,
                "eval_every": 10**6,
                "select_checkpoint": "last",
                "validation_per_language": 1,
            },
        }
    )
    model, tokenizer, _ = load_base_model(config, args.cache_dir)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    mixture = task_data.build_mixture(config)

    # the same batches both ways: finetune's own seeded order
    encoded = [encode_example(tokenizer, ex) for ex in mixture.train]
    order = batch_order(len(encoded), config.training.batch_size, seed=0)
    batches = [collate([encoded[i] for i in next(order)], tokenizer.pad_token_id) for _ in range(steps)]
    tokens = sum(int(b["attention_mask"].sum()) for b in batches)

    timings = {"cltbook": [], "plain": []}
    for _ in range(repeats):  # interleaved: ABAB...
        for name in ("cltbook", "plain"):
            model.load_state_dict(initial)
            started = time.perf_counter()
            if name == "cltbook":
                finetune(model, tokenizer, mixture.train, mixture.validation[:1], config.training, seed=0)
            else:
                plain_loop(model, batches, config.training.learning_rate, steps)  # noqa: F821
            timings[name].append(time.perf_counter() - started)
    ratio = [p / c for p, c in zip(timings["plain"], timings["cltbook"])]

    counts = parameter_counts(model)
    cfg = model.config
    seq = statistics.mean(b["input_ids"].shape[1] for b in batches)
    attention = 6 * cfg.num_hidden_layers * seq * cfg.hidden_size * tokens  # fwd+bwd QK^T and AV
    flops = 6 * counts["total"] * tokens + attention
    gemm = best_gemm_flops(threads)
    mfu = flops / statistics.median(timings["cltbook"]) / (gemm["best_gflops"] * 1e9)

    prompts = [ex.prompt for ex in mixture.evaluation][: 40 if args.quick else 200]
    model.load_state_dict(initial)
    gen = {"batched": [], "single": []}
    outputs = {}
    for _ in range(1 if args.quick else 2):
        for name, batch_size in (("batched", 50), ("single", 1)):
            started = time.perf_counter()
            outputs[name] = generate(model, tokenizer, prompts, 48, batch_size)
            gen[name].append(time.perf_counter() - started)
    identical = sum(a == b for a, b in zip(outputs["batched"], outputs["single"])) / len(prompts)
    new_tokens = sum(len(tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outputs["batched"])

    results = {
        "machine": {"platform": platform.platform(), "threads": threads, "torch": torch.__version__},
        "model": {"size": args.size, **counts},
        "finetune": {
            "steps": steps,
            "repeats": repeats,
            "tokens_per_run": tokens,
            "seconds": timings,
            "plain_over_cltbook": ratio,
            "median_ratio": statistics.median(ratio),
            "min_ratio": min(ratio),
            "max_ratio": max(ratio),
        },
        "mfu": {"flops_per_run": flops, "gemm": gemm, "mfu": mfu},
        "generation": {
            "prompts": len(prompts),
            "seconds": gen,
            "speedup": statistics.median(gen["single"]) / statistics.median(gen["batched"]),
            "identical_share": identical,
            "new_tokens": new_tokens,
        },
        "plain_loop_source": PLAIN_LOOP.strip(),
        "command": "python bench/bench.py" + (" --quick" if args.quick else ""),
    }
    out = ROOT / "bench" / ("results-quick.json" if args.quick else "results.json")
    out.write_text(json.dumps(results, indent=1))
    print(json.dumps({k: results[k] for k in ("finetune", "mfu", "generation")}, indent=1, default=str)[:3000])


if __name__ == "__main__":
    main()
