"""Preflight: every input a study's runs will read, checked before any folder or cache entry is
made, each error naming the field and its value (a ConfigError, exit code 2 on the command line).
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Iterator

from cltbook.config import ConfigError, RunConfig
from cltbook.data.mixture import build_mixture
from cltbook.data.real import load_source
from cltbook.sweep.runner import NOTEBOOK
from cltbook.world import LeakError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def check_notebook(notebook: Path, shown: str | None = None) -> None:
    """The run notebook parses and has one cell tagged ``parameters`` that assigns exactly one
    variable per RunConfig field, plus run_dir, cache_dir and threads (papermill only warns about
    a parameter the notebook does not define, so drift would pass silently)."""
    shown = shown or str(notebook)
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except FileNotFoundError:
        raise ConfigError(shown, "the run notebook does not exist") from None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(shown, f"is not a readable notebook ({type(err).__name__}: {err})") from None
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ConfigError(shown, f"needs exactly one cell tagged 'parameters', found {len(tagged)}")
    source = "".join(tagged[0].get("source", ""))
    try:
        body = ast.parse(source).body
    except SyntaxError as err:
        raise ConfigError(f"{shown}: parameters cell", f"is not valid Python: {err}") from None
    names = [t.id for node in body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]
    expected = [f.name for f in fields(RunConfig)] + ["run_dir", "cache_dir", "threads"]
    unknown = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    if unknown or missing:
        raise ConfigError(
            f"{shown}: parameters cell", f"assigns unknown {unknown} and lacks {missing}; it must assign {expected}"
        )


def _json_file_error(path: Path) -> str | None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        return f"{path.name} is not valid JSON ({err})"
    return None


def _safetensors_error(path: Path) -> str | None:
    """Why ``path`` is not a safetensors file (its 8-byte length and JSON header), or None."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < length <= size - 8:
            return f"{path.name} is not a safetensors file (header length {length} in a file of {size} bytes)"
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError):
            header = None
    return None if isinstance(header, dict) else f"{path.name} is not a safetensors file (unreadable header)"


DATA_SUFFIXES = (".jsonl", ".json", ".tsv", ".csv", ".parquet", ".txt")


class Unreachable(ConfigError):
    """A model or dataset this machine cannot reach: a path that does not exist here, or a hub id
    while offline and not in the local cache. A dry run lists every one and goes on; a run
    refuses the first before any work."""

    def __init__(self, path: str, source: str, message: str):
        self.source = source
        super().__init__(path, message)


def _check_hub_id(source: str, repo_type: str, field_path: str) -> None:
    """``source`` names no local path: it must look like a hub id (owner/name), and be in the
    local cache when the hub is offline (else :class:`Unreachable`)."""
    looks_local = source.startswith((".", "/", "~")) or source.count("/") != 1 or source.endswith(DATA_SUFFIXES)
    if looks_local:
        raise Unreachable(
            field_path, source, f"{source!r}: no such {'model folder' if repo_type == 'model' else 'file or folder'}"
        )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        from huggingface_hub.constants import HF_HUB_CACHE

        if not (Path(HF_HUB_CACHE) / f"{repo_type}s--{source.replace('/', '--')}").is_dir():
            raise Unreachable(
                field_path,
                source,
                f"{source!r} is neither a local path nor a hub id in the local cache "
                "(HF_HUB_OFFLINE=1: nothing downloads)",
            )


def check_model_source(source: str, field_path: str = "base_model.source") -> None:
    """A local model folder holds config.json, safetensors weights and a tokenizer, all readable;
    a hub id must already be cached when the hub is offline. Pickled checkpoints are refused
    without being opened: loading one can run arbitrary code."""
    folder = Path(source).expanduser()
    if not folder.exists():
        _check_hub_id(source, "model", field_path)
        return
    if not folder.is_dir():
        raise ConfigError(field_path, f"{source!r} is a file; name the model's folder")
    problems = []
    if not (folder / "config.json").is_file():
        problems.append("no config.json")
    else:
        problems.append(_json_file_error(folder / "config.json"))
    weights = sorted(folder.glob("*.safetensors"))
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if not weights:
        problems.append(
            f"only pickle checkpoints ({', '.join(pickles)}), which are never loaded: save the weights as safetensors"
            if pickles
            else "no *.safetensors weights"
        )
    problems += [_safetensors_error(p) for p in weights]
    tokenizer_files = [folder / n for n in ("tokenizer.json", "tokenizer_config.json") if (folder / n).is_file()]
    if not tokenizer_files:
        problems.append("no tokenizer (tokenizer.json or tokenizer_config.json)")
    problems += [_json_file_error(p) for p in tokenizer_files]
    problems = [p for p in problems if p]
    if problems:
        raise ConfigError(field_path, f"{source!r}: {'; '.join(problems)}")


@contextmanager
def _scratch_datasets_cache() -> Iterator[None]:
    """``datasets`` writes its Arrow copies to a temporary folder while the preflight reads."""
    import datasets  # the optional [real] extra

    saved = datasets.config.HF_DATASETS_CACHE
    with tempfile.TemporaryDirectory(prefix="cltbook-preflight-") as scratch:
        datasets.config.HF_DATASETS_CACHE = Path(scratch)
        try:
            yield
        finally:
            datasets.config.HF_DATASETS_CACHE = saved


def check_real_data(config: RunConfig, unreachable: list[Unreachable] | None = None) -> None:
    """Read a run's local data files and build its mixture: unreadable files, malformed records,
    too few items and evaluation items found in training fail here, naming the field. A hub
    dataset is checked by its id (and, offline, by its presence in the local cache); the mixture
    of a run that reads one is built when the run executes (nothing downloads before then), but
    its local files are still read here. Each file is read once: the mixture is built from what
    was read. With ``unreachable`` (a dry run), hub ids that cannot be reached from here are
    appended to it instead of raised."""
    sources = {
        f"data.{part}.{task}": source
        for part in ("train", "evaluation")
        for task, source in (getattr(config.data, part) or {}).items()
    }
    local = {where: source for where, source in sources.items() if Path(source.path).expanduser().exists()}
    for where, source in sources.items():
        if where not in local:
            try:
                _check_hub_id(source.path, "dataset", f"{where}.path")
            except Unreachable as error:
                if unreachable is None:
                    raise
                unreachable.append(error)
    counts = config.language_counts()
    loaded = {}
    with _scratch_datasets_cache():
        for where, source in local.items():
            task = where.rsplit(".", 1)[1]
            # the languages build_real_mixture asks for, so that it can use what is read here
            languages = tuple(counts) if where.startswith("data.train") else config.evaluation_languages
            if where.startswith("data.train") and not any(counts.values()):
                continue  # not read by the run either
            try:
                loaded[where] = load_source(source, task, languages, config.data)
            except (OSError, ValueError) as err:
                raise ConfigError(f"{where}.path", f"{source.path!r}: {err}") from None
        if len(local) < len(sources):
            return
        try:
            build_mixture(config, loaded)
        except LeakError as err:
            task = config.tasks[0]
            raise ConfigError(
                f"data.evaluation.{task}.path",
                f"{config.data.evaluation[task].path!r} shares items with data.train.{task}: {err} "
                "(data.allow_eval_in_train is for overfitting checks only)",
            ) from None


@contextmanager
def _working_folder(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def preflight(
    configs: list[RunConfig], root: Path, dry_run: bool = False
) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """Check every input the runs will read (see above); raises ConfigError. Relative paths are
    read from ``root``, the folder the run notebook executes in.

    A dry run does not stop at a model or dataset this machine cannot reach (a hub id, offline
    and not cached): it returns every one, as {(field, source): labels of the runs that need it},
    and checks the rest. A real run refuses the first, before any work."""
    check_notebook(root / NOTEBOOK, shown=str(NOTEBOOK))
    missing: dict[tuple[str, str], tuple[str, list[str]]] = {}
    with _working_folder(root):
        for source in sorted({c.base_model.source for c in configs} - {"world"}):
            try:
                check_model_source(source)
            except Unreachable as error:
                if not dry_run:
                    raise
                labels = [c.label for c in configs if c.base_model.source == source]
                missing[(error.path, source)] = (error.message, labels)
        for config in configs:
            if config.data.source == "real":
                found: list[Unreachable] = []
                try:
                    check_real_data(config, found if dry_run else None)
                except ConfigError as err:
                    raise ConfigError(err.path, f"{err.message} (run {config.label})") from None
                for error in found:
                    missing.setdefault((error.path, error.source), (error.message, []))[1].append(config.label)
    return missing
