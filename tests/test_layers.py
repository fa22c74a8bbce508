"""The package's rooms import only downward: ground → scoring → world → data → pipeline → sweep →
report → cli, with no import circle and no import of the package hidden inside a function body
(where a circle would hide). Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cltbook"
LAYERS = ["ground", "scoring", "world", "data", "pipeline", "sweep", "report", "cli"]
GROUND = {
    "cltbook",
    "cltbook.errors",
    "cltbook.languages",
    "cltbook.example",
    "cltbook.files",
    "cltbook.records",
    "cltbook.yamlfile",
    "cltbook.tasks",
    "cltbook.config",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    if module in GROUND:
        return LAYERS.index("ground")
    room = module.split(".")[1]
    if room not in LAYERS:
        raise AssertionError(f"{module} is in no room: add it to a sub-package or to GROUND")
    return LAYERS.index(room)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported cltbook module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(child) for child in ast.walk(node) if child is not node}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cltbook":
            for alias in node.names:  # `from cltbook.world import arithmetic` imports a module
                target = f"{node.module}.{alias.name}"
                module = (
                    target if (PACKAGE.parent / target.replace(".", "/")).with_suffix(".py").is_file() else node.module
                )
                found.append((module, node.lineno, id(node) in inside))
        elif isinstance(node, ast.Import):
            found += [
                (alias.name, node.lineno, id(node) in inside)
                for alias in node.names
                if alias.name.split(".")[0] == "cltbook"
            ]
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_room_or_rooms_below(module: str) -> None:
    upward = [
        f"line {line}: {target} ({LAYERS[layer(target)]})"
        for target, line, _ in imports(MODULES[module])
        if layer(target) > layer(module)
    ]
    assert not upward, f"{module} ({LAYERS[layer(module)]}) imports upward: {upward}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_of_the_package_inside_a_function(module: str) -> None:
    hidden = [f"line {line}: {target}" for target, line, inside in imports(MODULES[module]) if inside]
    assert not hidden, f"{module} imports the package inside a function: {hidden}"


def test_no_import_circle() -> None:
    graph = {
        module: {target for target, _, _ in imports(path) if target in MODULES and target != module}
        for module, path in MODULES.items()
    }
    # A package's __init__ importing its own submodules is how a package exports; the
    # submodules' imports of each other are what must not circle.
    graph = {
        m: {t for t in targets if not (t.startswith(m + ".") and MODULES[m].name == "__init__.py")}
        for m, targets in graph.items()
    }
    visiting, done, circles = set(), set(), []

    def visit(module: str, path: list[str]) -> None:
        visiting.add(module)
        for target in sorted(graph[module]):
            if target in visiting:
                circles.append(path[path.index(target) :] + [target] if target in path else [module, target])
            elif target not in done:
                visit(target, [*path, target])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not circles, f"import circles: {circles}"


def test_every_sub_package_states_its_one_job() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 8, f"{init.parent.name}/__init__.py needs a docstring saying its job"
