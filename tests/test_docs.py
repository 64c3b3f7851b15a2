"""The documentation stays true to the repository: its links lead somewhere, every
command is in the command-line contract, every exit code is in its table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stager.cli import COMMANDS
from stager.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]

# [text](target) and [text](target "title"), not images' remote sources.
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(page: Path) -> str:
    """The page without its fenced code blocks (code shows text, not links)."""
    out, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return "\n".join(out)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", _prose(page), re.M)}


def _relative_links(page: Path):
    for m in LINK.finditer(_prose(page)):
        target = m.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        yield target


def test_the_docs_folder_has_its_pages():
    names = {p.name for p in DOCS}
    assert {"architecture.md", "cli.md", "names.md", "plan.md"} <= names
    assert (ROOT / "docs" / "site-example.csv").is_file()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest}")
            continue
        try:
            dest.relative_to(ROOT)
        except ValueError:
            broken.append(f"{target}: outside the repository")
            continue
        if anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_no_page_points_at_the_specs_outside_the_repository():
    for page in PAGES:
        assert "shared/spec" not in page.read_text(encoding="utf-8"), page.name


def _cli_doc() -> str:
    return (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_is_in_cli_md(command):
    assert re.search(rf"^\s*stager {re.escape(command)}\b", _cli_doc(), re.M), (
        f"'stager {command}' is not in the synopsis of docs/cli.md"
    )
    assert f"### `stager {command}" in _cli_doc(), f"docs/cli.md has no section for 'stager {command}'"


def _exit_code_table() -> dict[int, str]:
    """The rows of the table under '## Exit codes' in docs/cli.md: {code: row}."""
    section = re.search(r"^## Exit codes\s*$(.*?)(?=^## )", _cli_doc(), re.M | re.S)
    assert section, "docs/cli.md has no '## Exit codes' section"
    rows = {}
    for line in section.group(1).splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|(.*)\|\s*$", line)
        if m:
            rows[int(m.group(1))] = m.group(2)
    return rows


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda c: f"{c.name}={c.value}")
def test_every_exit_code_is_in_the_table(code):
    rows = _exit_code_table()
    assert int(code) in rows, f"exit code {int(code)} ({code.name}) is not in docs/cli.md's exit-code table"
    assert f"`{code.name}`" in rows[int(code)], f"the row of exit code {int(code)} does not name {code.name}"


def test_the_exit_code_table_holds_only_real_codes():
    assert set(_exit_code_table()) == {int(c) for c in ExitCode}


# --------------------------------------------------------------------------- architecture.md names real code
def _names_defined() -> tuple[set[str], set[str]]:
    """Every function, class and assigned name in stager/ and tests/, and the module names."""
    import ast

    defined, modules = set(), set()
    for path in [*(ROOT / "stager").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        modules.add(path.stem)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined.add(node.target.id)
    return defined, modules


def _architecture() -> str:
    return (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _undefined(token: str, defined: set[str], modules: set[str], source: str) -> bool:
    """Whether a `token` of the page names code (see below) that does not exist."""
    import importlib

    name = token.removesuffix("()")
    parts = name.split(".")
    if not all(re.fullmatch(r"[A-Za-z_]\w*", p) for p in parts) or parts[-1] in ("py", "toml", "md"):
        return False  # a path, a file name, an option, a code
    if parts[0] == "stager":
        try:
            importlib.import_module(name)
            return False
        except ImportError:
            return not hasattr(importlib.import_module(".".join(parts[:-1])), parts[-1])
    if len(parts) > 1:  # module.name, Class.method
        return (parts[0] in modules or parts[0] in defined) and parts[1] not in defined
    if re.fullmatch(r"STAGER_[A-Z_]+", name):  # an environment variable stager reads
        return f'"{name}"' not in source
    if token.endswith("()") or "_" in name.strip("_") or re.fullmatch(r"[A-Z][a-z]+(?:[A-Z]\w*)?", name):
        return name not in defined
    return False  # a word: a layer, a command, a value


def test_every_function_and_class_architecture_md_names_exists():
    """`name()`, `snake_name`, `CamelName`, `module.name` and `stager.x.y` in the page are
    defined in stager/ (or tests/, for the test seams); environment variables are read."""
    defined, modules = _names_defined()
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "stager").rglob("*.py"))
    tokens = sorted(set(re.findall(r"`([^`\s]+)`", _architecture())))
    missing = [t for t in tokens if _undefined(t, defined, modules, source)]
    assert not missing, f"docs/architecture.md names what the code does not define: {missing}"


def test_architecture_md_lists_the_engines_rules_in_order():
    from stager.rules.engine import RULES

    listed = re.search(r"listed in order in `RULES`\s*\(([^)]*)\)", _architecture())
    assert listed, "docs/architecture.md does not list the engine's RULES"
    assert re.findall(r"`(\w+)`", listed.group(1)) == [rule.__name__ for rule in RULES]
