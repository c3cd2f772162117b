"""The browser layer's shape, read from the source with ast (nothing is imported): launching, the page facade and
diagnosis are separate modules, the launchers share launching through public names, and robots/browser has no
import cycle (undetected.py and remote.py used to import drivers.py's private helpers while it imported them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROBOTS = Path(__file__).resolve().parents[2] / "robots"
BROWSER = ROBOTS / "browser"


def _name(path: Path) -> str:
    parts = path.relative_to(ROBOTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, imported name) for every `from robots.browser... import name` anywhere in PATH (lazy ones too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("robots.browser"):
            out += [(str(node.module), alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names if alias.name.startswith("robots.browser")]
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_name(p): p for p in BROWSER.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for module, imported in _imports(path):
            deps.add(f"{module}.{imported}" if f"{module}.{imported}" in modules else module)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def test_the_browser_modules_import_no_cycle() -> None:
    graph = _graph()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for dep in graph[todo.pop()]:
                if dep == goal:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return False

    assert sorted(m for m in graph if reaches(m, m)) == []


def test_no_module_imports_another_browser_modules_private_names() -> None:
    found = {str(p.relative_to(ROBOTS.parent)): bad for p in sorted(ROBOTS.rglob("*.py"))
             if (bad := sorted(f"{m}.{n}" for m, n in _imports(p) if n.startswith("_")))}
    assert found == {}


def test_no_browser_module_is_over_500_lines() -> None:
    sizes = {str(p.relative_to(BROWSER)): n for p in sorted(BROWSER.rglob("*.py"))
             if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert sizes == {}


def test_the_launchers_share_launching_not_the_page_facade_module() -> None:
    """local, undetected and remote start a browser through robots.browser.launch; drivers.py only re-exports."""
    for kind in ("local", "undetected", "remote"):
        modules = {m for m, _ in _imports(BROWSER / f"{kind}.py")}
        assert "robots.browser.launch" in modules, kind
        assert "robots.browser.drivers" not in modules, kind
    drivers = ast.parse((BROWSER / "drivers.py").read_text(encoding="utf-8"))
    assert not [n for n in drivers.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
