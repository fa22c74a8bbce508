"""Does transfer grow with scale? The miniature world at larger model sizes and token budgets.

Reads top to bottom in steps, for each model size: pretrain a world base model on the chosen
device (`cltbook.pipeline.models.world_base_model`); then, for English-only fine-tuning (n = 0) and for
n = 100 examples per seen language, build the mixture (`cltbook.data.mixture.build_mixture`), fine-tune a
fresh copy of the base model (`cltbook.pipeline.train.finetune`) and evaluate all eight languages
(`cltbook.pipeline.evaluate.evaluate`, `cltbook.pipeline.evaluate.language_metrics`): the run notebook's own calls,
on one device. The results, with the device, versions, commit and every stage's seconds, go to one
JSON file, `bench/gpu_world.json`, which `book/world_scale.md` reads (the smoke preset's go to
`.cache/`, so they never replace a GPU result).

    python -m tools.gpu_world [--device cuda|cpu] [--tiny] [--sizes SIZE,SIZE,...] [--json PATH]

The default preset fits 8 minutes on one H100; `--device cpu --tiny` runs the same code in
seconds, as CI does. Base models are built in a scratch folder, never taken from a cache, so the
pretraining seconds are measured rather than remembered.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

# The elapsed time reported counts from here, before torch and transformers are imported.
STARTED = time.monotonic()

import torch  # noqa: E402

from cltbook.config import MODEL_SIZES, RunConfig, run_config  # noqa: E402
from cltbook.data import mixture  # noqa: E402
from cltbook.pipeline import evaluate, models, train  # noqa: E402
from cltbook.report.world_scale import DEFAULT_JSON, METRIC_LABELS, METRICS  # noqa: E402
from tools.gpu_check import environment, require_device  # noqa: E402

PROGRAM = "gpu_world"
# The smoke preset's results go where nothing is committed, so they never replace a GPU result.
TINY_JSON = Path(".cache/gpu_world_tiny.json")
# The whole default GPU run must end inside this.
GPU_BUDGET_SECONDS = 480
TASK = "math_reasoning"
# English-only fine-tuning against n examples per seen language: the paper's transfer contrast.
N_PER_LANGUAGE = (0, 100)


@dataclass(frozen=True)
class Preset:
    """What one invocation runs: the model sizes and the RunConfig sections every run shares (the
    size and n are filled in per run)."""

    name: str
    sizes: tuple[str, ...]
    world: dict[str, Any]
    base_model: dict[str, Any]
    mixture: dict[str, Any]
    training: dict[str, Any]
    evaluation: dict[str, Any]


# Sized for 8 minutes on one H100, from estimates (no GPU measured it yet; the JSON holds every
# stage's seconds, so the first run tells):
# - Pretraining: 2,000 steps x 128 sequences x 128 tokens = 16,384 tokens a step, 33M tokens per
#   size (11x the default study's 2.9M) over a corpus of 40,000 documents (about 3.8M tokens at
#   95 tokens a document, so 8-9 epochs). These models are too small to keep an H100 busy: a step
#   is bound by kernel launches, about 10 ms for tiny to medium (eager mode, fp32 weights with
#   TF32 matrix products). large needs about 6 x 14.6M x 16,384 = 1.4 TFLOP a step, 10-20 ms at
#   70-150 TFLOP/s. So about 20-25 s per size up to medium and 30-40 s for large: ~110 s in all.
# - Corpus and tokenizer, on the CPU, per size (build_base_model makes its own): 19 s measured on
#   a busy 2-core machine (generation 3 s, BPE training 7 s, tokenizing 9 s, which uses every
#   core), ~80 s in all at most.
# - Per size and n: fine-tuning 300 steps x 32 examples (~10 ms a step, ~5 s with validation),
#   evaluation of 8 x 200 items in 4 batches of 400, up to 64 new tokens (~15 ms a decoding step,
#   ~5 s; scoring the 1,600 outputs took 0.9 s on the 2-core machine), mixture 1 s: ~15 s, 8 runs,
#   ~120 s.
# - Start-up (imports, CUDA context): ~15 s. Total ~330 s, leaving 150 s of the 480 for error.
# One pretraining learning rate for every size, so the rate is no confound: 1e-3, what Pythia
# gives its smallest (14M) model, rather than BaseModelConfig's 3e-3 for the CPU study's tiny
# models, which is untried at 14M.
# float32 weights, not the GPU's bf16 default, so that scores compare with the CPU study's.
FULL = Preset(
    name="full",
    sizes=("tiny", "small", "medium", "large"),
    world={"corpus_documents": 40_000},
    base_model={
        "pretrain_steps": 2000,
        "pretrain_batch_size": 128,
        "pretrain_seq_len": 128,
        "pretrain_learning_rate": 1e-3,
        "dtype": "float32",
    },
    mixture={"anchor_examples": 1000},
    training={"max_steps": 300, "batch_size": 32, "eval_every": 100, "validation_per_language": 32},
    evaluation={"items_per_language": 200, "batch_size": 400},
)
# Only to exercise the code path (the micro model learns nothing in 4 steps).
TINY = Preset(
    name="tiny",
    sizes=("micro",),
    world={"corpus_documents": 300, "vocab_size": 400},
    base_model={"pretrain_steps": 4, "pretrain_batch_size": 8, "pretrain_seq_len": 64, "dtype": "float32"},
    mixture={"anchor_examples": 16},
    training={"max_steps": 3, "batch_size": 4, "warmup_steps": 1, "eval_every": 3, "validation_per_language": 4},
    evaluation={"items_per_language": 4, "max_new_tokens": 16, "batch_size": 32},
)


def parse_args(argv: list[str] | None = None) -> tuple[str, Preset, Path]:
    parser = argparse.ArgumentParser(prog="python -m tools.gpu_world", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="default cuda; without a GPU it fails rather than quietly run on the CPU",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="the smoke preset: micro model, a few steps, 4 items a language"
    )
    parser.add_argument(
        "--sizes", help=f"comma-separated model sizes (default: the preset's; known: {', '.join(MODEL_SIZES)})"
    )
    parser.add_argument(
        "--json",
        type=Path,
        help=f"where the results go (default {DEFAULT_JSON}; --tiny: {TINY_JSON}); "
        "scripts/gpu_world.sh runs in the repository root",
    )
    args = parser.parse_args(argv)
    preset = TINY if args.tiny else FULL
    json_path = args.json or (TINY_JSON if args.tiny else DEFAULT_JSON)
    if json_path.is_dir():
        parser.error(f"--json: {json_path} is a folder; name a file")
    if args.sizes is not None:
        sizes = tuple(name.strip() for name in args.sizes.split(",") if name.strip())
        unknown = [name for name in sizes if name not in MODEL_SIZES]
        if unknown or not sizes:
            parser.error(f"--sizes: unknown size(s) {unknown or [args.sizes]}; known: {', '.join(MODEL_SIZES)}")
        preset = Preset(**{**asdict(preset), "sizes": sizes})
    return args.device, preset, json_path


def run_settings(preset: Preset, size: str, n_per_language: int) -> RunConfig:
    """One validated run of the preset: its sections, with this size and n."""
    return run_config(
        {
            "study": PROGRAM,
            "tasks": [TASK],
            "world": dict(preset.world),
            "base_model": {**preset.base_model, "size": size},
            "mixture": {**preset.mixture, "n_per_language": n_per_language},
            "training": dict(preset.training),
            "evaluation": dict(preset.evaluation),
        }
    )


@contextmanager
def progress_bar(description: str, unit: str) -> Iterator[Any]:
    """A tqdm bar driven by the package's progress callbacks, (done, total) or (done, total, loss)."""
    from tqdm import tqdm

    with tqdm(desc=description, unit=unit, leave=True, dynamic_ncols=True) as bar:

        def update(done: int, total: int, loss: float | None = None) -> None:
            bar.total = total
            bar.update(done - bar.n)
            if loss is not None:
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

        yield update


def group_means(per_language: Any, config: RunConfig) -> dict[str, dict[str, Any]]:
    """Per metric: the English value, the means over seen and over unseen languages (each
    language weighs the same), and every language's value."""
    out = {}
    for metric in METRICS:
        values = per_language[(per_language["task"] == TASK) & (per_language["metric"] == metric)]
        by_language = dict(zip(values["language"], values["value"].astype(float)))
        missing = [code for code in config.evaluation_languages if code not in by_language]
        if missing:
            raise RuntimeError(
                f"{PROGRAM}: no {metric} value for language(s) {missing}: none of their outputs was scored"
            )
        out[metric] = {
            "english": by_language[config.anchor_language],
            "seen": sum(by_language[code] for code in config.seen_languages) / len(config.seen_languages),
            "unseen": sum(by_language[code] for code in config.unseen_languages) / len(config.unseen_languages),
            "languages": {code: by_language[code] for code in config.evaluation_languages},
        }
    return out


def pretrain_size(preset: Preset, size: str, device: str, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Build the size's base model on the device; what the record keeps about it."""
    config = run_settings(preset, size, 0)
    with progress_bar(f"{size}: pretrain", "step") as update:
        folder = models.world_base_model(config.world, config.base_model, cache_dir, progress=update, device=device)
    facts = models.describe(folder)
    spec = config.base_model
    return folder, {
        "shape": asdict(MODEL_SIZES[size]),
        "parameters": facts["parameters"],
        "pretraining": {
            "steps": spec.pretrain_steps,
            "tokens_per_step": spec.pretrain_batch_size * spec.pretrain_seq_len,
            "tokens": facts["tokens_seen"],
            "corpus_documents": facts["corpus_documents"],
            "corpus_tokens": facts["corpus_tokens"],
            "final_loss": facts["final_loss"],
            "seconds": facts["seconds"]["pretraining"],
            "corpus_and_tokenizer_seconds": facts["seconds"]["tokenizer_and_corpus"],
        },
    }


def finetune_and_evaluate(
    preset: Preset, size: str, n_per_language: int, folder: Path, device: str, cache_dir: Path
) -> dict[str, Any]:
    """One run, as the run notebook does it: mixture, fine-tuning from the base model, evaluation."""
    config = run_settings(preset, size, n_per_language)
    started = time.perf_counter()
    model, tokenizer = models.load_model(folder, dtype=config.base_model.dtype)
    model.to(device)
    splits = mixture.build_mixture(config)
    with progress_bar(f"{size} n={n_per_language}: fine-tune", "step") as update:
        result = train.finetune(
            model,
            tokenizer,
            splits.train,
            splits.validation,
            config.training,
            seed=config.seed,
            prompt_format=config.base_model.prompt_format,
            progress=update,
        )
    with progress_bar(f"{size} n={n_per_language}: evaluate", "item") as update:
        predictions, evaluation_seconds = evaluate.evaluate(
            model,
            tokenizer,
            splits.evaluation,
            config.evaluation.max_new_tokens,
            config.evaluation.batch_size,
            prompt_format=config.base_model.prompt_format,
            progress=update,
            cache_dir=cache_dir,
        )
    scores = group_means(evaluate.language_metrics(predictions), config)
    return {
        "size": size,
        "n_per_language": n_per_language,
        "run_id": config.run_id,
        "config": config.to_dict(),
        "train_examples": len(splits.train),
        "items_per_language": config.evaluation.items_per_language,
        "finetuning": {
            "steps": result.steps,
            "tokens": result.tokens,
            "best_step": result.best_step,
            "final_train_loss": result.train_losses[-1],
        },
        "metrics": scores,
        "seconds": {
            "finetuning": result.seconds,
            "evaluation": evaluation_seconds,
            "total": time.perf_counter() - started,
        },
    }


def summarise(record: dict[str, Any]) -> str:
    lines = [
        "=" * 100,
        f"{PROGRAM}: {record['device']['name']} | torch {record['torch']} | preset {record['preset']['name']}",
        f"{'':37}" + "".join(f"{METRIC_LABELS[metric]:>34}" for metric in METRICS),
        f"{'size':8}{'parameters':>12}{'pretrain s':>12}{'n':>5}"
        + "".join(f"{'en / seen / unseen':>34}" for _ in METRICS)
        + f"{'run s':>8}",
    ]
    for run in record["runs"]:
        size = record["sizes"][run["size"]]
        cells = "".join(
            f"{'{english:.2f} / {seen:.2f} / {unseen:.2f}'.format(**run['metrics'][metric]):>34}" for metric in METRICS
        )
        lines.append(
            f"{run['size']:8}{size['parameters']['total']:>12,}{size['pretraining']['seconds']:>12.1f}"
            f"{run['n_per_language']:>5}{cells}{run['seconds']['total']:>8.1f}"
        )
    budget = f" (budget {GPU_BUDGET_SECONDS} s)" if record["device"]["kind"] == "cuda" else ""
    lines += [f"elapsed {record['elapsed_seconds']:.1f} s{budget}", "=" * 100]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    device, preset, json_path = parse_args(argv)
    require_device(device, PROGRAM)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # weight loading and saving: noise beside ours
    for size in preset.sizes:  # every config is validated before anything runs
        for n in N_PER_LANGUAGE:
            run_settings(preset, size, n)
    if device == "cuda":  # TF32 matrix products for the fp32 weights; recorded below
        torch.backends.cuda.matmul.allow_tf32 = True
    facts = environment(device)
    git = facts["provenance"]["git"]
    record: dict[str, Any] = {
        "command": shlex.join(["python", "-m", f"cltbook.{PROGRAM}", *(sys.argv[1:] if argv is None else argv)]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git["commit"],
        "dirty": git["dirty"],
        "device": {
            "kind": device,
            "name": facts["device_name"],
            "tf32_matmul": device == "cuda" and torch.backends.cuda.matmul.allow_tf32,
        },
        "torch": facts["torch"],
        "transformers": facts["transformers"],
        "environment": facts,
        "preset": asdict(preset),
        "task": TASK,
        "n_per_language": list(N_PER_LANGUAGE),
        "sizes": {},
        "runs": [],
        "complete": False,
        "elapsed_seconds": None,
    }
    print(f"{PROGRAM}: preset {preset.name}, sizes {', '.join(preset.sizes)} on {facts['device_name']}", flush=True)

    def write() -> None:  # after every run, so a run cut short still leaves what it measured
        record["elapsed_seconds"] = time.monotonic() - STARTED
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(record, indent=1, default=str))

    write()  # an unwritable path fails now, not after the runs
    with tempfile.TemporaryDirectory(prefix=f"{PROGRAM}-") as scratch:
        cache_dir = Path(scratch)
        for size in preset.sizes:
            folder, record["sizes"][size] = pretrain_size(preset, size, device, cache_dir)
            for n in N_PER_LANGUAGE:
                record["runs"].append(finetune_and_evaluate(preset, size, n, folder, device, cache_dir))
                write()
    record["complete"] = True
    write()
    print(summarise(record))
    print(f"{PROGRAM}: wrote {json_path}")
    if device == "cuda" and record["elapsed_seconds"] > GPU_BUDGET_SECONDS:
        print(
            f"{PROGRAM}: WARNING: took {record['elapsed_seconds']:.0f} s, over the {GPU_BUDGET_SECONDS} s budget",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
