"""A GPU check: fine-tuning tokens/s, peak memory and MFU of a real-architecture model.

Reads top to bottom in steps: settings, model (a Llama-3.2-1B-shaped config with random weights,
no hub download), random-token batches with answer-only labels, timed optimizer steps through the
project's own `cltbook.pipeline.train.finetune`, a matrix-product benchmark on the same device and dtype
(the MFU denominator), and a summary. The default run fits well inside 4 minutes on one H100;
`--device cpu --tiny` runs the same measuring code in seconds, as CI does.

    python -m tools.gpu_check [--device cuda|cpu] [--tiny] [--method full|lora]
                                [--seq-len N] [--batch-size N] [--steps N] [--warmup-steps N]
                                [--backend torch|trainer|unsloth] [--json PATH]

`--backend trainer` measures the same steps through transformers' Trainer
(`cltbook.pipeline.hf_trainer.finetune`) instead of the plain loop.
With CUDA and unsloth installed, the torch measurement is repeated with `backend: unsloth` in a
child process: unsloth patches transformers when imported, so it must be imported first and must
not leak into the torch-backend numbers.

Nothing at module level imports transformers, so the unsloth child can import unsloth first.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The elapsed time reported counts from here, before torch and transformers are imported.
STARTED = time.monotonic()

import torch  # noqa: E402

# The whole default GPU run (unsloth included) must end inside this; the unsloth child gets
# what is left of it, less a margin for the summary.
GPU_BUDGET_SECONDS = 240
SUMMARY_MARGIN_SECONDS = 20
# NVIDIA's datasheet figure for H100 SXM, bf16 dense (no sparsity). H200 has the same.
VENDOR_PEAK_FLOPS = 989e12
VENDOR_PEAK_LABEL = "H100 SXM bf16 dense, 989 TFLOP/s (datasheet)"

# Llama-3.2-1B's shape (1,235,814,400 parameters with tied embeddings); its llama3 RoPE scaling
# is left out because it changes no cost.
LLAMA_3_2_1B = dict(
    hidden_size=2048,
    num_hidden_layers=16,
    num_attention_heads=32,
    num_key_value_heads=8,
    intermediate_size=8192,
    vocab_size=128256,
    max_position_embeddings=131072,
)
# The same architecture (GQA, SwiGLU, tied embeddings), small enough for 2 CPU cores in seconds.
TINY_LLAMA = dict(
    hidden_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    intermediate_size=512,
    vocab_size=4096,
    max_position_embeddings=2048,
)

FLOPS_FORMULA = (
    "FLOPs per token = 4*N_matmul + 2*N_matmul_trainable + 12*layers*d_attn*seq_len, where N_matmul "
    "counts the weights of every linear layer the forward pass multiplies by (the tied LM head "
    "included, the embedding lookup not; LoRA adapters included), 4*N_matmul is the forward pass "
    "and the gradient of the activations, 2*N_matmul_trainable the weight gradients (full "
    "fine-tuning: 6*N_matmul), and 12*layers*d_attn*seq_len the attention scores and weighted "
    "sums, forward and backward, over the full (non-causal) seq_len x seq_len matrix as in PaLM's "
    "MFU (d_attn = heads*head_dim). Activation recomputation is not counted. "
    "MFU = FLOPs per token * tokens/s / peak FLOP/s."
)


@dataclass(frozen=True)
class CheckSettings:
    """Everything that decides what is measured; written beside the results."""

    device: str
    tiny: bool
    method: str
    backend: str
    seq_len: int
    batch_size: int
    steps: int  # timed optimizer steps
    warmup_steps: int  # untimed steps before them (allocator, kernel selection, clocks)
    matmul_sizes: tuple[int, ...]
    seed: int = 0


# Tokens per step: 8 x 1024 keeps the 1B model's step near a third of a second on an H100.
DEFAULTS = dict(seq_len=1024, batch_size=8, steps=20, warmup_steps=3, matmul_sizes=(512, 1024, 2048, 4096))
TINY_DEFAULTS = dict(seq_len=64, batch_size=4, steps=4, warmup_steps=2, matmul_sizes=(256, 512, 1024))


def parse_args(argv: list[str] | None = None) -> tuple[CheckSettings, Path | None]:
    parser = argparse.ArgumentParser(prog="python -m tools.gpu_check", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="default cuda; without a GPU it fails rather than quietly measure the CPU",
    )
    parser.add_argument("--tiny", action="store_true", help="a 2-layer, 128-wide Llama instead of the 1B shape")
    parser.add_argument("--method", choices=("full", "lora"), default="full")
    parser.add_argument(
        "--backend",
        choices=("torch", "trainer", "unsloth"),
        default="torch",
        help="torch: the plain loop, and unsloth in a child process where it can; trainer: transformers' "
        "Trainer; unsloth runs it alone",
    )
    parser.add_argument("--seq-len", type=int, help="tokens per sequence (default 1024; tiny 64)")
    parser.add_argument("--batch-size", type=int, help="sequences per step (default 8; tiny 4)")
    parser.add_argument("--steps", type=int, help="timed optimizer steps (default 20; tiny 4)")
    parser.add_argument("--warmup-steps", type=int, help="untimed steps first (default 3; tiny 2)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    chosen = dict(TINY_DEFAULTS if args.tiny else DEFAULTS)
    for name in ("seq_len", "batch_size", "steps", "warmup_steps"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    minimum = {"seq_len": 4, "batch_size": 1, "steps": 2, "warmup_steps": 1}
    for name, low in minimum.items():
        if chosen[name] < low:
            parser.error(f"--{name.replace('_', '-')}: must be >= {low}, got {chosen[name]}")
    if args.backend == "unsloth" and args.device != "cuda":
        parser.error("--backend unsloth: needs --device cuda")
    settings = CheckSettings(device=args.device, tiny=args.tiny, method=args.method, backend=args.backend, **chosen)
    return settings, args.json


def require_device(device: str, program: str) -> None:
    """A clear failure, before any slow import, when the device `program` was asked for is not there."""
    if device == "cuda" and not torch.cuda.is_available():
        built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "built without CUDA"
        raise SystemExit(
            f"{program}: --device cuda was asked for, but torch sees no CUDA device "
            f"(torch {torch.__version__}, {built}). Use --device cpu --tiny for the CPU smoke run."
        )


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


# --------------------------------------------------------------------------------------------
# Model and data
# --------------------------------------------------------------------------------------------


def model_shape(settings: CheckSettings) -> dict[str, int]:
    return dict(TINY_LLAMA if settings.tiny else LLAMA_3_2_1B)


def dtype_for(device: str) -> torch.dtype:
    # What the project trains in: `base_model.dtype: auto` is bf16 on a GPU and fp32 on the CPU.
    return torch.bfloat16 if device == "cuda" else torch.float32


def id_tokenizer(vocab_size: int):
    """A real fast tokenizer whose text is token ids ("17 4031 5"): random token sequences then go
    through the project's own `encode_example`/`collate`, and unsloth can load it from a folder.
    The last two ids are padding and end-of-sequence."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from cltbook.pipeline.models import EOS, PAD

    vocab = {str(i): i for i in range(vocab_size - 2)}
    vocab.update({PAD: vocab_size - 2, EOS: vocab_size - 1})
    backend = Tokenizer(models.WordLevel(vocab, unk_token=PAD))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token=PAD, eos_token=EOS)


def random_model(settings: CheckSettings, tokenizer):
    """Random weights in the training dtype, initialised on the device itself: the 1B shape takes
    seconds on a GPU, where a CPU-side initialisation and copy would take far longer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        **model_shape(settings),
        tie_word_embeddings=True,
        rope_theta=500000.0,
        rms_norm_eps=1e-5,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(settings.seed)
    with torch.device(settings.device):
        model = LlamaForCausalLM(config)
    return model.to(dtype_for(settings.device))


def random_examples(settings: CheckSettings, vocab_size: int, count: int) -> list:
    """Fixed-length examples: half prompt (labelled -100 by `encode_example`), half answer + EOS,
    so every sequence is exactly seq_len tokens and no step holds padding."""
    from cltbook.data.mixture import Example

    generator = torch.Generator().manual_seed(settings.seed)
    prompt_len = settings.seq_len // 2
    ids = torch.randint(0, vocab_size - 2, (count, settings.seq_len - 1), generator=generator).tolist()
    return [
        Example(
            "gpu_check",
            "random",
            f"random-{i}",
            " ".join(map(str, row[:prompt_len])),
            " " + " ".join(map(str, row[prompt_len:])),
        )
        for i, row in enumerate(ids)
    ]


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def matmul_counts(model: torch.nn.Module) -> dict[str, int]:
    """Weights of the linear layers the forward pass multiplies by, all and trainable ones. A tied
    LM head is a linear layer too, so it counts here though `parameter_counts` calls it embedding."""
    linears = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return {
        "in_matmuls": sum(w.numel() for w in linears),
        "trainable_in_matmuls": sum(w.numel() for w in linears if w.requires_grad),
    }


def flops_per_token(counts: dict[str, int], shape: dict[str, int], seq_len: int) -> int:
    """See FLOPS_FORMULA. Llama's attention width is heads * head_dim = hidden size."""
    attention = 12 * shape["num_hidden_layers"] * shape["hidden_size"] * seq_len
    return 4 * counts["in_matmuls"] + 2 * counts["trainable_in_matmuls"] + attention


def peak_memory(device: str) -> dict[str, Any]:
    if device == "cuda":
        return {
            "bytes": torch.cuda.max_memory_allocated(),
            "reserved_bytes": torch.cuda.max_memory_reserved(),
            "kind": "torch.cuda.max_memory_allocated during training (weights, gradients, AdamW state, activations)",
        }
    # ru_maxrss is in KiB on Linux, bytes on macOS; it is the whole process's high-water mark.
    scale = 1 if sys.platform == "darwin" else 1024
    return {
        "bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
        "reserved_bytes": None,
        "kind": "peak RSS of the process (ru_maxrss), imports and setup included",
    }


def measure_training(model, tokenizer, settings: CheckSettings) -> dict[str, Any]:
    """Warm-up then timed optimizer steps through the loop the project trains with (completion
    loss, AdamW, gradient clipping, its per-step loss read-back): `cltbook.pipeline.train.finetune`,
    or with `--backend trainer` `cltbook.pipeline.hf_trainer.finetune`."""
    from cltbook.config import TrainingConfig
    from cltbook.pipeline import hf_trainer, train
    from cltbook.pipeline.models import parameter_counts

    finetune = hf_trainer.finetune if settings.backend == "trainer" else train.finetune

    total_steps = settings.warmup_steps + settings.steps
    config = TrainingConfig(
        max_steps=total_steps,
        batch_size=settings.batch_size,
        learning_rate=1e-5,
        warmup_steps=1,
        eval_every=total_steps,
        select_checkpoint="last",
        method=settings.method,
        backend=settings.backend,
    )
    examples = random_examples(settings, len(tokenizer), count=2 * settings.batch_size)
    shape = model_shape(settings)
    marks: list[float] = []
    seen: dict[str, Any] = {}

    def at_step_end(step: int, _total: int, _loss: float) -> None:
        synchronize(settings.device)
        marks.append(time.perf_counter())
        if step == 1:  # LoRA adapters exist only inside finetune
            seen["parameters"] = {
                **parameter_counts(model),
                **matmul_counts(model),
                "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            }

    if settings.device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    synchronize(settings.device)
    result = finetune(model, tokenizer, examples, [], config, seed=settings.seed, progress=at_step_end)
    memory = peak_memory(settings.device)

    tokens_per_step = result.tokens // result.steps  # finetune counts non-pad tokens
    seconds = [marks[i] - marks[i - 1] for i in range(settings.warmup_steps, total_steps)]
    tokens_per_second = tokens_per_step * len(seconds) / sum(seconds)
    per_token = flops_per_token(seen["parameters"], shape, settings.seq_len)
    return {
        "backend": settings.backend,
        "tokens_per_step": tokens_per_step,
        "completion_tokens_per_step": result.completion_tokens // result.steps,
        "tokens_per_second": tokens_per_second,
        "step_seconds": {
            "median": statistics.median(seconds),
            "min": min(seconds),
            "max": max(seconds),
            "stdev": statistics.stdev(seconds),
            "all": seconds,
        },
        "final_loss": result.train_losses[-1],
        "peak_memory": memory,
        "parameters": seen["parameters"],
        "flops_per_token": per_token,
        "achieved_flops": per_token * tokens_per_second,
    }


def matmul_peak(
    device: str, dtype: torch.dtype, sizes: tuple[int, ...], seconds_per_size: float = 0.25
) -> dict[int, float]:
    """FLOP/s of square matrix products per size: the best this device and dtype reach here."""
    rates = {}
    for n in sizes:
        a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
        out = torch.empty(n, n, device=device, dtype=dtype)
        torch.mm(a, b, out=out)  # warm-up: library load, kernel choice
        synchronize(device)
        started = time.perf_counter()
        torch.mm(a, b, out=out)
        synchronize(device)
        repeats = max(3, min(2000, int(seconds_per_size / max(time.perf_counter() - started, 1e-6))))
        started = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b, out=out)
        synchronize(device)
        rates[n] = 2 * n**3 * repeats / (time.perf_counter() - started)
        del a, b, out
    return rates


def environment(device: str) -> dict[str, Any]:
    import transformers

    from cltbook.pipeline.store import provenance

    facts = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
        "provenance": provenance(torch.get_num_threads()),
    }
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        facts.update(
            device_name=props.name,
            capability=f"{props.major}.{props.minor}",
            device_memory_bytes=props.total_memory,
            multiprocessors=props.multi_processor_count,
        )
    else:
        facts["device_name"] = f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    return facts


# --------------------------------------------------------------------------------------------
# unsloth, in a child process
# --------------------------------------------------------------------------------------------


def unsloth_in_child(settings: CheckSettings, deadline: float) -> dict[str, Any]:
    """The same measurement with backend unsloth, or why there is none."""
    if settings.backend != "torch":
        return {"status": f"not tried: compared with the torch backend, not {settings.backend}"}
    if settings.device != "cuda":
        return {"status": "not tried: unsloth needs CUDA"}
    if importlib.util.find_spec("unsloth") is None:
        return {"status": "skipped: unsloth is not installed (pip install -e '.[gpu]')"}
    timeout = deadline - time.monotonic()
    if timeout < 30:
        return {"status": f"skipped: only {timeout:.0f} s of the {GPU_BUDGET_SECONDS} s budget left"}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "unsloth.json"
        command = [
            sys.executable,
            "-m",
            "tools.gpu_check",
            "--backend",
            "unsloth",
            "--device",
            settings.device,
            "--method",
            settings.method,
            "--seq-len",
            str(settings.seq_len),
            "--batch-size",
            str(settings.batch_size),
            "--steps",
            str(settings.steps),
            "--warmup-steps",
            str(settings.warmup_steps),
            "--json",
            str(out),
        ] + (["--tiny"] if settings.tiny else [])
        package_root = str(Path(__file__).resolve().parents[1])  # this cltbook, however it was found
        search_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": search_path}
        try:
            child = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"status": f"FAILED: the unsloth run passed its {timeout:.0f} s share of the budget"}
        if out.is_file():  # written also when unsloth failed to import, with the reason
            return json.loads(out.read_text())["unsloth"]
        tail = (child.stderr or child.stdout).strip().splitlines()[-8:]
        return {"status": f"FAILED (exit {child.returncode}): " + " | ".join(tail)}


def run_unsloth_here(settings: CheckSettings) -> dict[str, Any]:
    """The child's side: import unsloth before transformers, load the random model from a folder
    through `load_with_unsloth`, measure it."""
    try:
        import unsloth  # noqa: F401  (patches transformers; must come first)
    except Exception as err:  # it raises more than ImportError on unsupported set-ups
        return {"status": f"FAILED: import unsloth: {type(err).__name__}: {err}"}
    from cltbook.config import BaseModelConfig, TrainingConfig
    from cltbook.pipeline.models import load_with_unsloth

    tokenizer = id_tokenizer(model_shape(settings)["vocab_size"])
    with tempfile.TemporaryDirectory() as folder:
        model = random_model(settings, tokenizer)
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        del model
        torch.cuda.empty_cache()
        spec = BaseModelConfig(source=folder, dtype="bfloat16")
        training = TrainingConfig(method=settings.method, backend="unsloth")
        model, tokenizer = load_with_unsloth(folder, spec, training)
    measured = measure_training(model, tokenizer, settings)
    return {"status": f"ok (unsloth {getattr(unsloth, '__version__', '?')})", "run": measured}


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def summarise(record: dict[str, Any]) -> str:
    settings, env, shape = record["settings"], record["environment"], record["model"]["shape"]
    runs = record["runs"]
    gib = 1024**3
    lines = [
        "=" * 100,
        "GPU check summary",
        "=" * 100,
        f"device             {env['device_name']} | torch {env['torch']} | transformers {env['transformers']} "
        f"| CUDA {env['cuda'] or '-'}",
        f"model              {'tiny Llama' if settings['tiny'] else 'Llama-3.2-1B shape'}, random weights: "
        f"hidden {shape['hidden_size']}, {shape['num_hidden_layers']} layers, {shape['num_attention_heads']} heads "
        f"({shape['num_key_value_heads']} KV), FFN {shape['intermediate_size']}, vocab {shape['vocab_size']}, "
        f"tied embeddings, {record['model']['dtype']}",
        f"training           {settings['method']} fine-tuning via the {settings['backend']} backend, batch "
        f"{settings['batch_size']} x {settings['seq_len']} tokens (half prompt, loss on the answer half), "
        f"{settings['warmup_steps']} warm-up + {settings['steps']} timed steps",
        "",
        f"{'':34}" + "".join(f"{name:>22}" for name in runs),
    ]

    def row(label: str, cell) -> None:
        lines.append(f"{label:34}" + "".join(f"{cell(run):>22}" for run in runs.values()))

    params = next(iter(runs.values()))["parameters"]
    row("tokens/s (non-pad)", lambda r: f"{r['tokens_per_second']:,.0f}")
    row("step time median [s]", lambda r: f"{r['step_seconds']['median']:.4f}")
    row("step time min / max [s]", lambda r: f"{r['step_seconds']['min']:.4f} / {r['step_seconds']['max']:.4f}")
    row("step time stdev [s]", lambda r: f"{r['step_seconds']['stdev']:.4f}")
    row("peak memory [GiB]", lambda r: f"{r['peak_memory']['bytes'] / gib:.2f}")
    row("achieved [TFLOP/s]", lambda r: f"{r['achieved_flops'] / 1e12:.3f}")
    row("MFU vs measured matmul peak", lambda r: f"{r['mfu']:.1%}")
    if record["vendor_peak"]["flops"] is not None:
        row("MFU vs vendor peak (H100 989)", lambda r: f"{r['mfu_vendor_peak']:.1%}")
    row("trainable parameters", lambda r: f"{r['parameters']['trainable']:,}")
    row("final training loss", lambda r: f"{r['final_loss']:.3f}")
    matmul = record["matmul"]
    lines += [
        "",
        f"parameters         total {params['total']:,} | non-embedding {params['non_embedding']:,} | "
        f"in matmuls {params['in_matmuls']:,} (tied LM head included)",
        "step time          wall time between step ends, CUDA synchronised at each (finetune also reads the loss back)",
        f"peak memory        {next(iter(runs.values()))['peak_memory']['kind']}",
        f"matmul peak        {matmul['best_flops'] / 1e12:.3f} TFLOP/s ({matmul['dtype']}, best of "
        + ", ".join(f"{n}: {rate / 1e12:.3g}" for n, rate in matmul["flops_by_size"].items())
        + " TFLOP/s)",
        f"vendor peak        {record['vendor_peak']['label']}",
        f"unsloth            {record['unsloth']['status']}",
        textwrap.fill(
            record["flops_formula"], width=100, initial_indent="FLOPs formula      ", subsequent_indent=" " * 19
        ),
        f"elapsed            {record['elapsed_seconds']:.1f} s"
        + (f" (budget {GPU_BUDGET_SECONDS} s)" if settings["device"] == "cuda" else ""),
        "=" * 100,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    settings, json_path = parse_args(argv)
    require_device(settings.device, "gpu_check")
    if settings.backend == "unsloth":  # the child: one measurement, its JSON, no summary
        outcome = run_unsloth_here(settings)
        if json_path is not None:
            json_path.write_text(json.dumps({"unsloth": outcome}, indent=1))
        return 0 if outcome["status"].startswith("ok") else 1

    print(f"gpu_check: {settings}", flush=True)
    tokenizer = id_tokenizer(model_shape(settings)["vocab_size"])
    model = random_model(settings, tokenizer)
    print("gpu_check: model built; training ...", flush=True)
    measured = measure_training(model, tokenizer, settings)
    del model
    if settings.device == "cuda":
        torch.cuda.empty_cache()

    print("gpu_check: matrix-product benchmark ...", flush=True)
    dtype = dtype_for(settings.device)
    rates = matmul_peak(settings.device, dtype, settings.matmul_sizes)
    best = max(rates.values())

    unsloth = unsloth_in_child(settings, deadline=STARTED + GPU_BUDGET_SECONDS - SUMMARY_MARGIN_SECONDS)
    runs = {settings.backend: measured, **({"unsloth": unsloth["run"]} if "run" in unsloth else {})}
    vendor = VENDOR_PEAK_FLOPS if settings.device == "cuda" else None
    for run in runs.values():
        run["mfu"] = run["achieved_flops"] / best
        run["mfu_vendor_peak"] = run["achieved_flops"] / vendor if vendor else None

    record = {
        "settings": asdict(settings),
        "environment": environment(settings.device),
        "model": {"shape": model_shape(settings), "dtype": str(dtype).removeprefix("torch.")},
        "matmul": {"dtype": str(dtype).removeprefix("torch."), "flops_by_size": rates, "best_flops": best},
        "vendor_peak": {"flops": vendor, "label": VENDOR_PEAK_LABEL if vendor else "not applicable on the CPU"},
        "flops_formula": FLOPS_FORMULA,
        "runs": runs,
        "unsloth": {key: value for key, value in unsloth.items() if key != "run"},
        "elapsed_seconds": time.monotonic() - STARTED,
    }
    print(summarise(record))
    if settings.device == "cuda" and record["elapsed_seconds"] > GPU_BUDGET_SECONDS:
        print(
            f"gpu_check: WARNING: took {record['elapsed_seconds']:.0f} s, over the {GPU_BUDGET_SECONDS} s budget",
            file=sys.stderr,
        )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(record, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
