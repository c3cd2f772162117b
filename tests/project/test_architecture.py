"""The shape of the core (issue #16): the step library depends on the step context Protocol only, never on the
runner, and the runner's modules stay small; the command line is imported by nothing in the library, and its
command groups share robots/cli/common.py, which imports none of them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ("robots.run", "robots.engine")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in a module, also those under `if TYPE_CHECKING:` or inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def _is_runner(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in RUNNER)


def test_no_step_module_imports_the_runner() -> None:
    steps = sorted((ROOT / "robots" / "steps").rglob("*.py"))
    assert steps
    offending = [f"{path.relative_to(ROOT)}:{line}: imports {module}"
                 for path in steps for line, module in _imports(path)
                 if _is_runner(module) or (module.startswith(".") and "run" in module)]
    assert offending == []


def test_the_check_sees_an_import_of_the_runner(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from robots.engine import StepContext\n"
                      "def f():\n    import robots.run.context\n    from robots import run\n")
    assert [m for _, m in _imports(sample) if _is_runner(m)] == ["robots.engine", "robots.engine.StepContext",
                                                                  "robots.run.context", "robots.run"]


def test_runner_modules_are_at_most_500_lines() -> None:
    modules = sorted((ROOT / "robots" / "run").glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "runner.py", "lifecycle.py"}
    too_long = {p.name: n for p in modules if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert too_long == {}


# ------------------------------------------------------------------------------------- the command line
ROBOTS = ROOT / "robots"


def _cli_module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _cli_imports(path: Path, name: str | None = None) -> Iterator[str]:
    """Every module an import statement of PATH (the module NAME) imports, relative imports resolved; `from P
    import m` is P.m when m is a module of the package P, else P."""
    name = name or _cli_module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                yield f"{source}.{alias.name}" if _is_module(f"{source}.{alias.name}") else source


def _is_cli(module: str) -> bool:
    return module == "robots.cli" or module.startswith("robots.cli.")


def test_cli_common_imports_no_other_cli_module() -> None:
    """robots/cli/common.py is what every command group shares: it must not lean on any of them (or on the
    package, which imports them all)."""
    common = ROBOTS / "cli" / "common.py"
    assert sorted({m for m in _cli_imports(common) if _is_cli(m)}) == []


def test_no_module_outside_the_cli_imports_it() -> None:
    """The library raises and the command line prints: nothing in robots/ outside robots/cli imports robots.cli
    (the sub-CLIs used to import cli.py's private helpers while it imported them, a cycle). A portal pack's own
    commands (robots/packs/<name>/cli.py, PortalPack.cli) are command line too: they may use robots.cli.common."""
    found = {}
    for path in sorted(ROBOTS.rglob("*.py")):
        if path.is_relative_to(ROBOTS / "cli"):
            continue
        pack_cli = path.name == "cli.py" and path.parent.parent == ROBOTS / "packs"
        bad = sorted({m for m in _cli_imports(path) if _is_cli(m) and not (pack_cli and m == "robots.cli.common")})
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}


def test_cli_command_groups_import_only_the_shared_modules() -> None:
    """A command group imports robots.cli.common (and `robots run` its output writers), never another group:
    only robots/cli/__init__.py puts the groups together."""
    shared = {"robots.cli.common", "robots.cli.output"}
    found = {}
    for path in sorted((ROBOTS / "cli").glob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        bad = sorted({m for m in _cli_imports(path) if _is_cli(m)} - shared - {_cli_module_name(path)})
        if bad:
            found[path.name] = bad
    assert found == {}


def test_the_cli_import_check_resolves_relative_and_submodule_imports(tmp_path: Path) -> None:
    """The checks above read `from robots.cli import run` and `from . import run` as the module robots.cli.run,
    and `from robots.cli.common import err` as robots.cli.common."""
    sample = tmp_path / "sample.py"
    sample.write_text("from robots.cli import run\nfrom . import bdd\nfrom .common import err\nimport robots.cli\n")
    found = [m for m in _cli_imports(sample, "robots.cli.sample") if _is_cli(m)]
    assert found == ["robots.cli.run", "robots.cli.bdd", "robots.cli.common", "robots.cli"]


def test_the_runners_context_offers_everything_a_step_sees() -> None:
    from robots.run.context import RunContext
    from robots.steps.context import StepContext

    wanted = {n for n in [*vars(StepContext), *StepContext.__annotations__] if not n.startswith("_")}
    offered = {n for n in dir(RunContext) if not n.startswith("_")} | {"call", "timeout"}  # (set in __init__)
    assert wanted and wanted <= offered, wanted - offered


def test_the_tests_mirror_the_package_layout() -> None:
    """tests/<package>/ holds the tests of robots/<package>/ (tests/packs/sera/sandbox/ those of the Sera pack's
    sandbox), tests/packs/<portal>/<folder>/ those of a folder of the pack's flows (tests/packs/sera/spa/: the flows of
    flows/sera/spa/); only tests/project/ (the repository as a whole) has no package of its own."""
    folders = sorted({p.parent.relative_to(ROOT / "tests") for p in (ROOT / "tests").rglob("test_*.py")})

    def flows_folder(f: Path) -> bool:
        return len(f.parts) == 3 and f.parts[0] == "packs" and (ROOT / "flows" / f.parts[1] / f.parts[2]).is_dir()

    strays = [f"tests/{f}" for f in folders if f != Path(".") and f != Path("project")
              and not any((ROOT / "robots" / f).glob("*.py")) and not flows_folder(f)]
    assert strays == [], "test folders that mirror no package of robots/ (move the tests to their package's folder)"
    assert len(folders) >= 15  # the walk found the layout
