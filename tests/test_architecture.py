"""The house rules, checked on the source: imports only go down the layers, no import
cycle, no function over 60 lines (in stager/ and scripts/), no module or package
sharing a dotted name.

The layers, bottom first (docs/architecture.md): the base modules, rules, catalog,
card, plan, cli. A module may import its own layer and the layers below it, never a
layer above (not even inside a function).
"""

from __future__ import annotations

import ast
import subprocess
import sys
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


# --------------------------------------------------------------------------- the tests' own layout

TESTS = Path(__file__).resolve().parent
# The only test modules at the top of tests/: those about the whole (layers, docs, every
# command's bad input, the interface language of every layer).
CROSS_CUTTING = {"test_architecture.py", "test_docs.py", "test_bad_inputs.py", "test_i18n.py"}


def _test_sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _is_test_module(path: Path) -> bool:
    return path.name.startswith("test_") or path.name == "conftest.py"


def _imported_names(path: Path) -> list[tuple[str, int]]:
    """Every dotted name an import statement of ``path`` reaches (``from a import b`` gives
    ``a`` and ``a.b``; relative imports keep their dots' target as written)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((base, node.lineno))
            found += [(f"{base}.{a.name}".lstrip("."), node.lineno) for a in node.names]
    return found


def test_no_test_module_imports_another_test_module():
    # What tests share lives in tests/helpers/ or in conftest.py fixtures: a test module
    # imported by another runs its module code twice and ties the two files' layouts.
    stems = {p.stem for p in _test_sources() if _is_test_module(p)}
    offending = [
        f"{path.relative_to(TESTS)} line {line}: {name}"
        for path in _test_sources()
        for name, line in _imported_names(path)
        if name and name.split(".")[-1] in stems
    ]
    assert not offending, f"test modules imported by other modules: {offending}"


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_every_layer_has_its_tests_in_its_own_folder(layer):
    folder = TESTS / layer
    assert folder.is_dir(), f"stager/{layer}/ has no tests/{layer}/"
    assert sorted(folder.glob("test_*.py")), f"tests/{layer}/ holds no test module"


def test_the_top_of_tests_holds_only_the_cross_cutting_modules():
    top = {p.name for p in TESTS.glob("test_*.py")}
    assert top <= CROSS_CUTTING, f"move to tests/<layer>/ (the layer they test): {sorted(top - CROSS_CUTTING)}"


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_a_layers_tests_import_nothing_above_it(layer):
    # tests/<layer>/ tests that layer: it may use the layers below to build its inputs,
    # never a layer above (a CLI test drives the installed stager as a subprocess).
    mine = LAYERS.index(layer)
    upward = [
        f"{path.relative_to(TESTS)} line {line}: {name}"
        for path in sorted((TESTS / layer).rglob("*.py"))
        for name, line in _imported_names(path)
        if name in MODULES and LAYERS.index(_layer(name)) > mine
    ]
    assert not upward, f"tests/{layer}/ imports a higher layer: {upward}"


#: What only stager.cli.run() may do: turn an error into its message and its exit code.
ERROR_ENDINGS = {"render_error", "render_reported", "error_line", "error_document", "exit", "_exit"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("stager.cli.commands")))
def test_commands_return_codes_and_never_render_errors_themselves(module):
    """A command returns an exit code or raises (a StagerError, or cli.output.Reported for a
    report that ends in an error): it never prints an Error: line or exits by itself."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    called = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ERROR_ENDINGS:
                called.append(f"{name} (line {node.lineno})")
    assert not called, f"{module} ends a run by itself: {called}"


def test_no_stager_command_imports_dataclasses_or_concurrent_futures():
    """Its record classes are stager.value's (a twentieth of the cost to define): what a
    command runs does without ``dataclasses``."""
    code = (
        "import sys, stager.cli.commands.prepare, stager.cli.commands.catalog, stager.cli.commands.verify, "
        "stager.cli.commands.plan, stager.card.media, stager.plan.site; "
        "print(sorted({'dataclasses', 'concurrent.futures', 'logging'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"  # nor concurrent.futures (stager.card.tasks), which imports logging
