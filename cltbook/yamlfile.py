"""Reading a study file: plain YAML that says each thing once.

PyYAML's safe loader is the parser; this module refuses what it would accept silently or slowly,
each time naming the field, the line and the file:

- a key written twice in one mapping (YAML keeps the last one, so the study would say two things
  and run one of them);
- anchors and aliases that expand past :data:`MAX_VALUES` values, or nesting deeper than
  :data:`MAX_DEPTH` (checked on the parsed tree before anything is expanded, in time linear in
  the file);
- tags other than plain data (``!!python/...``), a value swallowed by a comment (``seed: #3``) and a
  comment inside a ``[...]`` or ``{...}`` collection, which cuts it.

It reads the float spellings people write: ``1e-4`` is the number 0.0001, as in YAML 1.2 and
Python (YAML 1.1, which PyYAML follows, reads it as a string).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cltbook.errors import ConfigError

__all__ = ["MAX_DEPTH", "MAX_VALUES", "StudyLoader", "parse_plain_yaml", "read_plain_yaml"]

# A study of the paper's full grid holds a few thousand values once its aliases are expanded.
MAX_VALUES = 100_000
MAX_DEPTH = 64

_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}
_MERGE = "tag:yaml.org,2002:merge"
# YAML 1.2's float: a mantissa with or without a dot, an exponent with or without a sign.
_FLOAT_1_2 = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class StudyLoader(yaml.SafeLoader):
    """The safe loader, reading ``1e-4`` (and ``3E5``) as floats."""


StudyLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1_2, list("-+0123456789."))


def _where(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _comment_at(text: str) -> int:
    """The offset of the first YAML comment in ``text`` (a '#' at its start or after a space or
    tab, outside quotes), or -1."""
    quote = None
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] in " \t\n"):
            return i
    return -1


class _Checker:
    """One walk over the composed tree; each node is checked once, however many aliases name it."""

    def __init__(self, text: str, file: Path):
        self.lines = text.splitlines()
        self.text = text
        self.file = file
        self.checked: set[int] = set()
        self.sizes: dict[int, int] = {}

    def size(self, node: yaml.Node, depth: int = 0, path: str = "") -> int:
        """Values ``node`` holds once every alias is expanded (memoised: linear in the file)."""
        if depth > MAX_DEPTH:
            raise ConfigError("", f"{self.file}: line {_where(node)} nests deeper than {MAX_DEPTH} levels")
        if id(node) in self.sizes:
            return self.sizes[id(node)]
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(
                self.size(k, depth + 1, path) + self.size(v, depth + 1, self._child(path, k)) for k, v in node.value
            )
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(self.size(item, depth + 1, f"{path}[{i}]") for i, item in enumerate(node.value))
        else:
            total = 1
        self.sizes[id(node)] = total
        return total

    @staticmethod
    def _child(path: str, key: yaml.Node) -> str:
        name = key.value if isinstance(key, yaml.ScalarNode) else "?"
        return f"{path}.{name}" if path else str(name)

    def check(self, node: yaml.Node, path: str) -> None:
        if id(node) in self.checked:
            return
        self.checked.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            raise ConfigError(
                path,
                f"the YAML tag {node.tag.removeprefix('tag:yaml.org,2002:')!r} is not allowed "
                f"(line {_where(node)} of {self.file}); a study holds plain data only",
            )
        if getattr(node, "flow_style", False):
            span = self.text[node.start_mark.index : node.end_mark.index]
            at = _comment_at(span)
            if at >= 0:
                line = node.start_mark.line + span[:at].count("\n") + 1
                comment = span[at:].split("\n", 1)[0]
                raise ConfigError(
                    path,
                    f"a comment inside [...] or {{...}} cuts it: YAML reads {comment!r} on line {line} of "
                    f"{self.file} as a comment (quote a value holding ' #', or write one item per line)",
                )
        if isinstance(node, yaml.MappingNode):
            lines: dict[Any, int] = {}
            for key, value in node.value:
                if key.tag == _MERGE:
                    self.check(value, path)
                    continue
                child = self._child(path, key)
                if isinstance(key, yaml.ScalarNode):
                    if key.value in lines:
                        raise ConfigError(
                            child,
                            f"is written twice (lines {lines[key.value]} and {_where(key)} of {self.file}); "
                            "YAML would keep only the last, so the study would say two things and run one: "
                            "keep one",
                        )
                    lines[key.value] = _where(key)
                self._emptied_by_comment(value, child)
                self.check(key, child)
                self.check(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.check(item, f"{path}[{i}]")

    def _emptied_by_comment(self, value: yaml.Node, path: str) -> None:
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null") and value.value == "":
            mark = value.start_mark
            rest = self.lines[mark.line][mark.column :].strip() if mark.line < len(self.lines) else ""
            if rest.startswith("#"):
                raise ConfigError(
                    path,
                    f"has no value: YAML reads {rest!r} as a comment (line {mark.line + 1} of {self.file}; "
                    "quote a value that holds ' #', or write null)",
                )


def _syntax_hint(text: str, err: yaml.YAMLError) -> str:
    """Why the parser stopped, where a comment is the likely cause: a '#' inside a flow collection."""
    marks = [m for m in (getattr(err, "context_mark", None), getattr(err, "problem_mark", None)) if m is not None]
    if not marks:
        return ""
    lines = text.splitlines()
    first, last = min(m.line for m in marks), max(m.line for m in marks)
    for number in range(first, min(last, len(lines) - 1) + 1):
        line = lines[number]
        at = _comment_at(line)
        if at >= 0 and ("[" in line[:at] or "{" in line[:at] or number > first):
            return (
                f" (line {number + 1} holds {line[at:].strip()!r}: after a space, '#' starts a YAML comment, "
                "which cut the value; quote it)"
            )
    return ""


def _one_line(err: yaml.YAMLError) -> str:
    """The parser's complaint on one line: what it was doing, what it found, and where."""
    parts = [part for part in (getattr(err, "context", None), getattr(err, "problem", None)) if part]
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return (", ".join(parts) if parts else " ".join(str(err).split())) + where


def read_plain_yaml(path: str | Path) -> Any:
    """The plain data in a YAML file, checked as the module docstring says; a ConfigError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError("", f"{path} is a folder; name a study file inside it (e.g. {path}/default.yaml)")
    if not path.is_file():
        raise ConfigError("", f"study file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            "", f"{path} is not valid UTF-8 (byte {err.object[err.start]:#04x} at offset {err.start}); re-encode it"
        ) from None
    return parse_plain_yaml(text, path)


def parse_plain_yaml(text: str, path: str | Path) -> Any:
    """The plain data in YAML ``text`` (``path`` names where it came from in messages), checked as
    the module docstring says."""
    loader = StudyLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        checker = _Checker(text, path)
        values = checker.size(root)
        if values > MAX_VALUES:
            raise ConfigError(
                "",
                f"{path} expands to {values:,} values through its YAML aliases "
                f"(at most {MAX_VALUES:,}); write the study out without nested aliases",
            )
        checker.check(root, "")
        return loader.construct_document(root)
    except yaml.YAMLError as err:
        raise ConfigError("", f"{path} is not valid YAML: {_one_line(err)}{_syntax_hint(text, err)}") from None
    except RecursionError:
        raise ConfigError("", f"{path} nests too deeply to read (at most {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
