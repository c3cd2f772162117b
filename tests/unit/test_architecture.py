"""The shape of the core (issue #16): the step library depends on the step context Protocol only, never on the
runner, and the runner's modules stay small."""

from __future__ import annotations

import ast
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
