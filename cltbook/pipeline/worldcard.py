"""The world card: what a world base model was trained on and how well it learned each language.

Computed once per base model, beside its cached weights, by the first run that uses it (the book
never trains or evaluates a model; it reads the card the runs collected). Three tables:

- ``corpus``: documents, tokens and token share per language (a document's parts are counted
  for their own languages: a parallel or code-switched one for both), and the number of distinct
  token types each language uses;
- ``loss``: held-out next-token loss (nats per token) per language of the base model, against a
  unigram baseline fitted on the whole training corpus (add-one smoothing), each with a 95%
  bootstrap interval over held-out documents;
- ``overlap``: Jaccard overlap of the token types two languages use in the corpus.

Held-out documents come from the corpus's own generator on a stream of their own
(:func:`cltbook.world.corpus.held_out_documents`), with any text that also occurs in the training
corpus removed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from cltbook.config import BaseModelConfig, WorldConfig, run_config
from cltbook.files import atomic_write_parquet, atomic_write_text, exclusive_lock
from cltbook.pipeline.models import load_model, parameter_counts, world_base_model
from cltbook.world import DEFAULT_LANGUAGE_SHARES, pretraining_documents
from cltbook.world.corpus import held_out_documents

# Bump when what the card computes changes; cards of another version are recomputed.
CARD_VERSION = 1
HELD_OUT_DOCUMENTS = 200
BOOTSTRAP_SAMPLES = 1000
TABLES = ("corpus", "loss", "overlap")


def _ratio_interval(
    numerators: np.ndarray, denominators: np.ndarray, rng: np.random.Generator, n_boot: int
) -> tuple[float, float, float]:
    """sum(num) / sum(den) with a percentile bootstrap over documents."""
    estimate = numerators.sum() / denominators.sum()
    picks = rng.integers(0, len(numerators), (n_boot, len(numerators)))
    replicates = numerators[picks].sum(axis=1) / denominators[picks].sum(axis=1)
    low, high = np.quantile(replicates, [0.025, 0.975])
    return float(estimate), float(low), float(high)


def _document_losses(model, tokenizer, documents: list[list[int]], batch_size: int = 32) -> np.ndarray:
    """Summed next-token loss (nats) of each document, predicting every token after an EOS."""
    eos = tokenizer.eos_token_id
    sums = []
    with torch.no_grad():
        for start in range(0, len(documents), batch_size):
            chunk = [[eos, *ids] for ids in documents[start : start + batch_size]]
            width = max(map(len, chunk))
            ids = torch.full((len(chunk), width), tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, seq in enumerate(chunk):
                ids[row, : len(seq)] = torch.tensor(seq)
                mask[row, : len(seq)] = 1
            logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits.float()
            nll = torch.nn.functional.cross_entropy(
                logits[:, :-1].transpose(1, 2), ids[:, 1:].to(model.device), reduction="none"
            )
            sums.extend((nll * mask[:, 1:].to(model.device)).sum(dim=1).tolist())
    return np.array(sums)


def compute(
    model,
    tokenizer,
    world: WorldConfig,
    base_model: BaseModelConfig,
    key: str,
    documents_per_language: int = HELD_OUT_DOCUMENTS,
    n_boot: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The card's three tables for one base model (module docstring)."""
    shares = world.language_shares or DEFAULT_LANGUAGE_SHARES
    documents = pretraining_documents(world)
    parts = [part for document in documents for part in document.parts]
    encoded = tokenizer([text for _, text in parts], add_special_tokens=False)["input_ids"]

    counts = np.zeros(len(tokenizer), dtype=np.int64)
    per_language: dict[str, dict] = {}
    for (language, _), ids in zip(parts, encoded):
        entry = per_language.setdefault(language, {"documents": 0, "tokens": 0, "types": set()})
        entry["documents"] += 1
        entry["tokens"] += len(ids)
        entry["types"].update(ids)
        np.add.at(counts, ids, 1)
    total_tokens = sum(entry["tokens"] for entry in per_language.values())
    languages = sorted(per_language, key=lambda code: -per_language[code]["tokens"])
    identity = {
        "base_model": key,
        "model_size": base_model.size,
        "non_embedding_parameters": parameter_counts(model)["non_embedding"],
        "parameters": parameter_counts(model)["total"],
    }
    corpus = pd.DataFrame(
        [
            {
                **identity,
                "language": code,
                "documents": per_language[code]["documents"],
                "tokens": per_language[code]["tokens"],
                "token_share": per_language[code]["tokens"] / total_tokens,
                "document_share_configured": shares.get(code, 0.0),
                "token_types": len(per_language[code]["types"]),
            }
            for code in languages
        ]
    )

    unigram_log_prob = np.log((counts + 1) / (counts.sum() + len(counts)))
    training_texts = frozenset(document.text for document in documents)
    rng = np.random.default_rng(seed)
    model.eval()
    loss_rows = []
    for code in languages:
        held_out = held_out_documents(code, documents_per_language, world, exclude=training_texts)
        ids = tokenizer([doc.text for doc in held_out], add_special_tokens=False)["input_ids"]
        lengths = np.array([len(doc) for doc in ids], dtype=float)
        model_sums = _document_losses(model, tokenizer, ids)
        unigram_sums = np.array([-unigram_log_prob[doc].sum() for doc in ids])
        for name, sums in (("model", model_sums), ("unigram", unigram_sums)):
            value, low, high = _ratio_interval(sums, lengths, rng, n_boot)
            loss_rows.append(
                {
                    **identity,
                    "language": code,
                    "predictor": name,
                    "loss": value,
                    "ci_low": low,
                    "ci_high": high,
                    "documents": len(ids),
                    "tokens": int(lengths.sum()),
                }
            )
    loss = pd.DataFrame(loss_rows)

    overlap = pd.DataFrame(
        [
            {
                **identity,
                "language": a,
                "other": b,
                "jaccard": len(per_language[a]["types"] & per_language[b]["types"])
                / max(1, len(per_language[a]["types"] | per_language[b]["types"])),
            }
            for a in languages
            for b in languages
        ]
    )
    return {"corpus": corpus, "loss": loss, "overlap": overlap}


def ensure(
    folder: str | Path, model, tokenizer, world: WorldConfig, base_model: BaseModelConfig
) -> dict[str, pd.DataFrame]:
    """The card of the base model cached in ``folder``: read it, or compute and save it once."""
    folder = Path(folder)
    card_dir = folder / "card"
    with exclusive_lock(folder.parent / f".{folder.name}.card.lock"):
        stamp = card_dir / "version.json"
        if stamp.is_file() and json.loads(stamp.read_text()).get("version") == CARD_VERSION:
            return {name: pd.read_parquet(card_dir / f"{name}.parquet") for name in TABLES}
        tables = compute(model, tokenizer, world, base_model, folder.name)
        for name, frame in tables.items():
            atomic_write_parquet(card_dir / f"{name}.parquet", frame)
        atomic_write_text(stamp, json.dumps({"version": CARD_VERSION}))
        return tables


def build_child(spec_json: str) -> None:
    """Build a world base model and its card: the child process of
    :func:`cltbook.sweep.runner.build_base_model` (``spec_json``: the run config, cache folder,
    torch threads and the stage file that shows progress)."""
    spec = json.loads(spec_json)
    config, stage = run_config(spec["config"]), Path(spec["stage"])
    torch.set_num_threads(spec["threads"])

    def progress(done: int, total: int, *_: Any) -> None:
        if done % 10 == 0 or done == total:
            atomic_write_text(stage, f"pretrain {done}/{total}")

    folder = world_base_model(config.world, config.base_model, spec["cache_dir"], progress=progress)
    atomic_write_text(stage, "card")
    model, tokenizer = load_model(folder, dtype=config.base_model.dtype)
    ensure(folder, model, tokenizer, config.world, config.base_model)
