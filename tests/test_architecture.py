"""The house rules, checked on the source: imports only go down the layers, no import
cycle, no function over 60 lines (in stager/ and scripts/), no module or package
sharing a dotted name.

The layers, bottom first (docs/architecture.md): the base modules, rules, catalog,
card, plan, cli. A module may import its own layer and the layers below it, never a
layer above (not even inside a function).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "stager"
LAYERS = ["base", "rules", "catalog", "card", "plan", "cli"]
MAX_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "base"  # stager, stager.errors, stager.fileio, stager.__main__...


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("stager")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            if name.startswith("stager"):
                subs = [(f"{name}.{a.name}", node.lineno) for a in node.names if f"{name}.{a.name}" in MODULES]
                # `from pkg import sub` takes a submodule, not a name of pkg/__init__.py:
                # an edge to pkg only when some name imported is pkg's own.
                if len(subs) < len(node.names):
                    found.append((name, node.lineno))
                found += subs
    return found


def test_the_layers_are_the_packages():
    assert {_layer(m) for m in MODULES} <= set(LAYERS)
    for layer in LAYERS[1:]:
        assert f"stager.{layer}" in MODULES, f"stager/{layer}/ is a package"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down(module):
    # The entry point (stager/__main__.py) stands above everything: it only calls the CLI.
    if module == "stager.__main__":
        return
    mine = LAYERS.index(_layer(module))
    upward = [
        f"line {line}: {name}"
        for name, line in _imports(module, MODULES[module])
        if name in MODULES and LAYERS.index(_layer(name)) > mine
    ]
    assert not upward, f"{module} ({_layer(module)}) imports a higher layer: {upward}"


def test_no_import_cycle():
    # Every edge counts, a submodule's to its own package too: `pkg/__init__.py` importing
    # `pkg.sub` while `pkg.sub` imports names of `pkg` is a cycle. (Importing `pkg.sub2`
    # from `pkg.sub` runs pkg/__init__.py but takes none of its names: no edge to `pkg`.)
    graph = {m: {n for n, _ in _imports(m, p) if n in MODULES and n != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n) :], n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


SCRIPTS = {f"scripts/{p.name}": p for p in sorted((PACKAGE.parent / "scripts").glob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES) + sorted(SCRIPTS))
def test_no_function_over_sixty_lines(module):
    tree = ast.parse((MODULES.get(module) or SCRIPTS[module]).read_text(encoding="utf-8"))
    long = [
        f"{f.name} (line {f.lineno}): {f.end_lineno - f.lineno + 1} lines"
        for f in _functions(tree)
        if f.end_lineno is not None and f.end_lineno - f.lineno + 1 > MAX_LINES
    ]
    assert not long, f"{module}: functions over {MAX_LINES} lines: {long}"


def test_no_module_shares_a_dotted_name_with_a_package():
    files = {_module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert not files & packages
    data_folders = {p.parent for p in PACKAGE.rglob("*.toml")}
    for folder in data_folders:
        assert (folder / "__init__.py").is_file(), f"{folder}: data lives in a real package"
