"""Reading study files (cltbook.yamlfile): what it accepts, and a property test over the mistakes
people make.

The property test: study files a user might write by mistake (a valid study, mutated: keys renamed,
duplicated or deleted, values retyped, made non-finite or huge, nested aliases, comments dropped
into lines) are either valid or refused cleanly by `cltbook run FILE --dry-run`: exit 2 and one
message naming a field or the file; never a traceback, never a file written under runs/, results/
or the cache, and each case inside a time bound (an alias bomb must not take minutes to refuse).
Hypothesis runs a fixed number of derandomized examples, so CI sees the same cases every time.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cltbook import cli
from cltbook.config import ConfigError, load_study
from cltbook.sweep.badinput import MICRO, alias_bomb
from cltbook.yamlfile import MAX_VALUES, read_plain_yaml

VALID = {
    "name": "fuzz",
    "description": "a valid micro study",
    "base": MICRO,
    "grid": {"mixture.n_per_language": [0, 2]},
    "blocks": [{"name": "seeds", "grid": {"seed,data_seed": [[1, 1]]}}],
}

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=14)
WEIRD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(10**9, 10**30),
    st.just(-(10**12)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(NAMES, st.integers(0, 3), max_size=2),
    st.sampled_from(["1e-4", "3E5", ".inf", "-.inf", ".nan"]),
)


def paths(node, prefix=()):
    """Every (path to a value) of a nested dict/list document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from paths(value, (*prefix, i))


def get_parent(document, path):
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_documents(draw) -> str:
    """The text of a study file: the valid study with one to three mutations."""
    document = yaml.safe_load(yaml.safe_dump(VALID))
    text = None
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["rename", "delete", "retype", "retype", "duplicate", "aliases", "comment"]))
        all_paths = list(paths(document))
        if kind in ("rename", "delete", "retype") and all_paths:
            path = draw(st.sampled_from(all_paths))
            parent = get_parent(document, path)
            if kind == "retype":
                parent[path[-1]] = draw(WEIRD_VALUES)
            elif isinstance(parent, dict):
                value = parent.pop(path[-1])
                if kind == "rename":
                    parent[draw(NAMES)] = value
            elif kind == "delete":
                parent.pop(path[-1])
        elif kind == "aliases":
            depth, width = draw(st.integers(2, 12)), draw(st.integers(2, 9))
            lines = ["a0: &a0 [1, 2]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
            target = draw(st.sampled_from(["base", "grid", "top"]))
            text = yaml.safe_dump(document, sort_keys=False)
            bomb = "\n".join(lines)
            if target == "top":
                text = f"{text}bombs:\n" + "\n".join("  " + line for line in bomb.splitlines()) + "\n"
            else:
                text = f"{text}x_{target}: {{}}\n" + bomb + "\n"
        else:
            text = text or yaml.safe_dump(document, sort_keys=False)
            lines = text.splitlines()
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate":
                lines.insert(index, lines[index])
            else:
                line = lines[index]
                cut = draw(st.integers(0, len(line)))
                lines[index] = line[:cut] + " #" + line[cut:]
            text = "\n".join(lines) + "\n"
    return text if text is not None else yaml.safe_dump(document, sort_keys=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    return (
        {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        if folder.is_dir()
        else {}
    )


RESULTS_BEFORE = snapshot(ROOT / "results")


@settings(
    max_examples=300,
    derandomize=True,
    deadline=timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_documents())
def test_a_mutated_study_is_valid_or_refused_with_one_message(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="cltbook-fuzz-") as scratch:
        scratch = Path(scratch)
        study = scratch / "fuzz.yaml"
        study.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(
                    [
                        "run",
                        str(study),
                        "--dry-run",
                        "--runs-dir",
                        str(scratch / "runs"),
                        "--cache-dir",
                        str(scratch / "cache"),
                    ]
                )
        finally:
            os.chdir(cwd)
        message = err.getvalue()
        assert code in (0, 2), f"exit {code}: {message}\n--- study ---\n{text}"
        if code == 2:
            assert message.startswith("error: ") and message.count("\n") == 1, message
            assert "Traceback" not in message
            # a field path ("base.seed: ...") or the file itself ("…/fuzz.yaml is not valid YAML")
            assert ": " in message[len("error: ") :] or str(study) in message, message
        assert not (scratch / "runs").exists() and not (scratch / "cache").exists()
    assert snapshot(ROOT / "results") == RESULTS_BEFORE


# --------------------------------------------------------------------------------------------
# What is read, and how
# --------------------------------------------------------------------------------------------


def test_floats_are_read_as_people_write_them(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("a: 1e-4\nb: 3E5\nc: -2.5e-3\nd: 1.0e-4\ne: 7\nf: '1e-4'\ng: 1e\nh: e5\n")
    expected = {"a": 1e-4, "b": 3e5, "c": -2.5e-3, "d": 1e-4, "e": 7, "f": "1e-4", "g": "1e", "h": "e5"}
    assert read_plain_yaml(path) == expected


def test_a_learning_rate_written_1e_4_runs_at_1e_4(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbase:\n  training:\n    learning_rate: 1e-4\n")
    [config] = load_study(path).expand()
    assert config.training.learning_rate == 1e-4


def test_aliases_below_the_bound_are_read(tmp_path):
    """The world ablation names one grid five times through an alias: that is what aliases are for."""
    assert len(load_study(ROOT / "studies" / "world-ablation.yaml").expand()) > 0
    path = tmp_path / "s.yaml"
    path.write_text(alias_bomb(levels=3, width=3))  # 2 * 3 * 3 values
    assert read_plain_yaml(path)["notes"]["a2"] == [[[0, 1]] * 3] * 3


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(alias_bomb(levels=40, width=9))  # 9 ** 39 values if anything walked them
    with pytest.raises(ConfigError, match=f"at most {MAX_VALUES:,}"):
        read_plain_yaml(path)


def test_a_comment_after_a_value_is_a_comment(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s  # the study\nbase:\n  seed: 3  # three\n  tasks:\n    - math_reasoning  # one\n")
    assert read_plain_yaml(path) == {"name": "s", "base": {"seed": 3, "tasks": ["math_reasoning"]}}


def test_a_hash_inside_quotes_is_text(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ndescription: 'issue #3'\nlist: ['a #b', \"c #d\"]\n")
    assert read_plain_yaml(path)["list"] == ["a #b", "c #d"]


# --------------------------------------------------------------------------------------------
# What the command line says when the error is not the input's
# --------------------------------------------------------------------------------------------


def test_an_internal_error_says_it_is_a_bug_and_keeps_the_traceback_in_a_log(monkeypatch, capsys, tmp_path):
    def broken(*args, **kwargs):
        raise KeyError("a key the code forgot")

    monkeypatch.setattr(cli, "run_study", broken)
    monkeypatch.setattr(cli.tempfile, "gettempdir", lambda: str(tmp_path))
    code = cli.main(["run", str(ROOT / "studies" / "smoke.yaml"), "--dry-run"])
    message = capsys.readouterr().err
    assert code == cli.BUG_EXIT and "This is a bug in cltbook" in message and "Traceback" not in message
    [log] = tmp_path.glob("cltbook-error-*.log")
    assert str(log) in message
    text = log.read_text()
    assert "Traceback" in text and "a key the code forgot" in text and "def broken" not in message
    assert text.startswith("cltbook run ")


def test_an_error_of_the_machine_is_not_called_a_bug(monkeypatch, capsys):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "run_study", full_disk)
    code = cli.main(["run", str(ROOT / "studies" / "smoke.yaml")])
    message = capsys.readouterr().err
    assert code == 1 and message == "error: [Errno 28] No space left on device\n"
