"""The import contracts of the core (issue "A core that knows no portal"), checked on the import graph grimp builds
of `robots` (every import statement, those under `if TYPE_CHECKING:` and inside functions too):

1. no cycle between packages: robots.run, robots.flow, robots.steps, robots.browser, robots.scrape, ... (a top-level
   module such as robots.pool counts as its own package, a portal pack robots.packs.<portal> too);
2. no cycle between the core's modules;
3. the core never imports a portal pack (robots.packs.<portal>, robots.sandbox, robots.sera): it asks robots.packs
   (discovery through the `robots.portals` entry points) for them.

The core is robots/ without the packs' parts: robots/packs/<portal>/, and the Sera parts not yet moved into
robots/packs/sera/ (robots/sandbox, robots/sera, robots/testing/bdd.py, robots/api/routers, robots/cli/sandbox.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import grimp
import pytest

#: the portal packs, which the core never imports (robots.packs.<portal> too)
PACKS = ("robots.sandbox", "robots.sera")
#: the Sera parts that still live inside core packages (not core, not checked as importers; in the package graph
#: they count with the package they are in, which wires them in)
PACK_PARTS = ("robots.testing.bdd", "robots.api.routers", "robots.cli.sandbox")

# Known today, allowed until the move that removes them: each entry must still be found (see
# test_every_allowance_is_still_needed), so that one fixed is also taken off this list.
#: package cycles: none left (robots/scrape/contracts.py asks robots.packs for record models)
ALLOWED_PACKAGE_CYCLES: list[frozenset[str]] = []
#: module cycles: none left
ALLOWED_MODULE_CYCLES: list[frozenset[str]] = []
#: core modules that import a pack's part: none left (the Sera parts live in robots/packs/sera/)
ALLOWED_PACK_IMPORTS: set[tuple[str, str]] = set()
#: core modules that live in robots/packs/ beside the discovery: folder packs (a project's YAML) and the YAML record
#: model builder; not a portal
PACKS_CORE = ("robots.packs.folder", "robots.packs.yaml_models")


def _within(module: str, names: Iterable[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def node(module: str) -> str:
    """The package a module belongs to for the package-cycle contract."""
    parts = module.split(".")
    if _within(module, PACKS_CORE):
        return "robots.packs"
    if parts[:2] == ["robots", "packs"] and len(parts) > 2:
        return ".".join(parts[:3])  # robots.packs.<portal>; robots.packs itself is the discovery
    return ".".join(parts[:2])


def is_pack(module: str) -> bool:
    return _within(module, PACKS) or node(module).startswith("robots.packs.")


def is_core(module: str) -> bool:
    return not is_pack(module) and not _within(module, PACK_PARTS)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe(component: Iterable[str], examples: dict[tuple[str, str], str]) -> str:
    """A cycle for a failure message: every import between its members, with one module-level example each."""
    members = set(component)
    lines = [" <-> ".join(sorted(members))]
    lines += [f"    {a} -> {b}  (e.g. {examples[a, b]})" for a, b in sorted(examples) if a in members and b in members]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("robots", include_external_packages=False)


def _imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    return sorted((a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a))


def package_cycles(imports: list[tuple[str, str]]) -> tuple[list[list[str]], dict[tuple[str, str], str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    examples: dict[tuple[str, str], str] = {}
    for a, b in imports:
        if node(a) != node(b):
            edges[node(a)].add(node(b))
            examples.setdefault((node(a), node(b)), f"{a} imports {b}")
    return cycles(edges), examples


def module_cycles(imports: list[tuple[str, str]]) -> tuple[list[list[str]], dict[tuple[str, str], str]]:
    """Cycles among modules of which at least one is in the core."""
    edges: dict[str, set[str]] = defaultdict(set)
    for a, b in imports:
        edges[a].add(b)
    found = [c for c in cycles(edges) if any(is_core(m) for m in c)]
    return found, {(a, b): f"{a} imports {b}" for a, b in imports}


def core_pack_imports(imports: list[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in imports if is_core(a) and is_pack(b)}


def test_no_cycle_between_packages(graph: grimp.ImportGraph) -> None:
    found, examples = package_cycles(_imports(graph))
    bad = [c for c in found if frozenset(c) not in ALLOWED_PACKAGE_CYCLES]
    assert not bad, "import cycles between packages:\n" + "\n".join(describe(c, examples) for c in bad)


def test_no_cycle_between_core_modules(graph: grimp.ImportGraph) -> None:
    found, examples = module_cycles(_imports(graph))
    bad = [c for c in found if frozenset(c) not in ALLOWED_MODULE_CYCLES]
    assert not bad, "import cycles between modules:\n" + "\n".join(describe(c, examples) for c in bad)


def test_the_core_imports_no_pack(graph: grimp.ImportGraph) -> None:
    bad = sorted(core_pack_imports(_imports(graph)) - ALLOWED_PACK_IMPORTS)
    assert not bad, ("the core imports a portal pack (ask robots.packs for it instead):\n"
                     + "\n".join(f"    {a} imports {b}" for a, b in bad))


def test_every_allowance_is_still_needed(graph: grimp.ImportGraph) -> None:
    """An allowance above that no longer matches anything is taken off its list."""
    imports = _imports(graph)
    stale = [sorted(c) for c in ALLOWED_PACKAGE_CYCLES if sorted(c) not in package_cycles(imports)[0]]
    stale += [sorted(c) for c in ALLOWED_MODULE_CYCLES if sorted(c) not in module_cycles(imports)[0]]
    stale += [list(pair) for pair in sorted(ALLOWED_PACK_IMPORTS - core_pack_imports(imports))]
    assert stale == [], "no longer found, take them off the allowances in tests/project/test_import_graph.py"


# ------------------------------------------------------------------------- the checks themselves
def test_a_module_belongs_to_its_package_and_a_packs_part_to_none_of_the_core() -> None:
    assert node("robots.run.runner") == "robots.run"
    assert node("robots.pool") == "robots.pool"
    assert node("robots.packs") == "robots.packs"
    assert node("robots.packs.sera.models") == "robots.packs.sera"
    assert node("robots.api.routers.runs") == "robots.api"
    assert [m for m in ("robots.packs", "robots.packs.sera", "robots.sera.models", "robots.sandbox",
                        "robots.testing.bdd", "robots.testing.fixtures", "robots.cli.sandbox", "robots.cli.run",
                        "robots.api.routers.runs", "robots.api.tokens") if is_core(m)] == [
        "robots.packs", "robots.testing.fixtures", "robots.cli.run", "robots.api.tokens"]
    assert [m for m in ("robots.packs", "robots.packs.sera.models", "robots.sera", "robots.sandbox.app",
                        "robots.api.routers.runs", "robots.testing.bdd") if is_pack(m)] == [
        "robots.packs.sera.models", "robots.sera", "robots.sandbox.app"]


def test_the_checks_find_a_cycle_and_name_its_imports() -> None:
    imports = [("robots.steps.control", "robots.scrape.walk"), ("robots.scrape.walk", "robots.steps.context"),
               ("robots.flow.loader", "robots.steps"), ("robots.pool", "robots.errors")]
    found, examples = package_cycles(imports)
    assert found == [["robots.scrape", "robots.steps"]]
    assert describe(found[0], examples) == (
        "robots.scrape <-> robots.steps\n"
        "    robots.scrape -> robots.steps  (e.g. robots.scrape.walk imports robots.steps.context)\n"
        "    robots.steps -> robots.scrape  (e.g. robots.steps.control imports robots.scrape.walk)")
    assert module_cycles(imports)[0] == []
    assert module_cycles([*imports, ("robots.steps.context", "robots.steps.control")])[0] == [
        ["robots.scrape.walk", "robots.steps.context", "robots.steps.control"]]
    assert core_pack_imports([("robots.portals", "robots.sandbox.app"), ("robots.packs.sera", "robots.sera.models"),
                              ("robots.cli.run", "robots.packs"), ("robots.api.flows", "robots.packs.sera")]) == {
        ("robots.portals", "robots.sandbox.app"), ("robots.api.flows", "robots.packs.sera")}
