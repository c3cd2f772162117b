"""How long does loading and validating 100 flows take? (Target: well under a second.)

    .venv/bin/python bench/validate_flows.py [--flows 100] [--repeats 5] [--profile]

Writes varied valid flows into a temporary project (the Sera selector catalogs copied beside them): copies
of flows/sera/list_customers.yaml with variations, and that flow with a tail using every registered step
whose example can be made valid (steps are read from the registry at run time). Times `load_flow` over all
of them, `--repeats` times, and prints the median total and per flow; `--profile` adds a cProfile of one
pass (top functions by cumulative time)."""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robots import selectors_catalog  # noqa: E402
from robots.errors import FlowError  # noqa: E402
from robots.flow import templating  # noqa: E402
from robots.flow.loader import load_flow, one_pass  # noqa: E402
from robots.flow.reference import SELECTOR_PLACEHOLDER, TEXT_PLACEHOLDER, example_data  # noqa: E402
from robots.flow.schema import _Builder, example_of  # noqa: E402
from robots.selectors_catalog import SelectorCatalog  # noqa: E402
from robots.steps import REGISTRY  # noqa: E402

BASE = ROOT / "flows" / "sera" / "list_customers.yaml"


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)


def _substitute(value: Any, selectors: list[str], text: str, rng: random.Random) -> Any:
    """The example's placeholders made real: catalog selectors, and `text` for every text placeholder."""
    if value == SELECTOR_PLACEHOLDER:
        return rng.choice(selectors)
    if value == TEXT_PLACEHOLDER:
        return text
    if isinstance(value, dict):
        return {_substitute(k, selectors, text, rng): _substitute(v, selectors, text, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, selectors, text, rng) for v in value]
    return value


def _kinds(steps: Any) -> set[str]:
    """The step names used in a list of raw steps, nested ones included."""
    found: set[str] = set()
    for item in steps if isinstance(steps, list) else []:
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            for kind, args in item.items():
                found.add(kind)
                if isinstance(args, dict):
                    for v in args.values():
                        found |= _kinds(v)
    return found


def _called_file(item: Any) -> Path | None:
    """The flow file a step names as its main argument (`- call: sign_in.yaml`), when it is beside BASE."""
    if isinstance(item, dict) and len(item) == 1:
        value = next(iter(item.values()))
        if isinstance(value, str) and value.endswith(".yaml") and (BASE.parent / value).is_file():
            return BASE.parent / value
    return None


def _inline_calls(doc: dict[str, Any]) -> None:
    """Replace steps that call a flow by that flow's steps (and take over its secrets)."""
    steps = []
    for item in doc["steps"]:
        called = _called_file(item)
        if called is None:
            steps.append(item)
            continue
        sub = yaml.safe_load(called.read_text(encoding="utf-8"))
        steps += sub["steps"]
        have = doc.get("secrets", [])
        doc["secrets"] = [*have, *(n for n in sub.get("secrets", []) if n not in have)]
    doc["steps"] = steps


def usable_steps(base: dict[str, Any], folder: Path, selectors: list[str]) -> tuple[dict[str, list[Any]], list[str]]:
    """For each registered step, list items that load when appended to the base flow (probed once, untimed);
    and the steps for which no example could be made valid."""
    builder = _Builder(REGISTRY)
    rng = random.Random(7)
    usable: dict[str, list[Any]] = {}
    missing = []
    probe = folder / "probe.yaml"
    for name in sorted(REGISTRY):
        sdef = REGISTRY[name]
        own = example_of(sdef.args)
        raw = yaml.safe_load(own)[0] if own else example_data(sdef, builder, REGISTRY)
        found = []
        for text in ("{{ vars.q }}", "plain-text", "https://example.test/"):
            item = _substitute(copy.deepcopy(raw), selectors, text, rng)
            doc = {**base, "steps": [*base["steps"], item]}
            probe.write_text(_dump(doc), encoding="utf-8")
            try:
                load_flow(probe)
            except FlowError:
                continue
            found.append(item)
        if found:
            usable[name] = found
        elif name not in _kinds(base["steps"]):
            missing.append(name)
    probe.unlink()
    return usable, missing


def variant(base: dict[str, Any], i: int, selectors: list[str], rng: random.Random) -> dict[str, Any]:
    """list_customers with changes: names, var defaults, shorthand or mapping forms, options, repeated
    sign-in blocks, a smaller field map, another page bound."""
    doc = copy.deepcopy(base)
    doc["name"] = f"list_customers_{i}"
    doc["description"] = f"variant {i} of list_customers"
    doc["vars"]["q"]["default"] = rng.choice(["", "smith", "acme", f"q{i}"])
    doc["vars"]["page_size"]["default"] = rng.choice([25, 50, 100])
    if rng.random() < 0.5:
        _inline_calls(doc)
    steps = doc["steps"]
    head = next(i for i, st in enumerate(steps) if isinstance(next(iter(st.values())), dict)
                and "id" in next(iter(st.values())))
    for _ in range(rng.randrange(0, 4)):  # longer flows: the steps before the first one with an id, again
        steps[head:head] = copy.deepcopy(steps[:head])
    for s in steps:
        kind, args = next(iter(s.items()))
        if kind == "click" and isinstance(args, str) and rng.random() < 0.5:
            s[kind] = {"target": args, "timeout": rng.choice([5, 10, 30]), "name": f"click {i}"}
        elif kind == "fill" and rng.random() < 0.3:
            s[kind] = {**args, "optional": True, "when": "vars.q != ''"}
    pag = next(s["paginate"] for s in steps if "paginate" in s)
    pag["max_pages"] = rng.randrange(1, 1000)
    fields = pag["steps"][0]["extract_table"]["fields"]
    for key in rng.sample(sorted(k for k in fields if k not in ("id", "number", "name")), rng.randrange(0, 4)):
        del fields[key]
    if rng.random() < 0.3:
        doc["timeouts"] = {"step": rng.choice([5, 15, 30]), "page_load": 90}
    if rng.random() < 0.5:  # a raw selector instead of a catalog entry now and then
        steps.insert(1, {"wait_for": {"target": "css:body", "state": "present"}})
    steps.insert(1, {"click": rng.choice(selectors)})
    return doc


def everything(base: dict[str, Any], i: int, usable: dict[str, list[Any]], rng: random.Random) -> dict[str, Any]:
    """list_customers with a tail using every step that has a usable example, in a shuffled order."""
    doc = copy.deepcopy(base)
    doc["name"] = f"all_steps_{i}"
    tail = [copy.deepcopy(rng.choice(items)) for items in usable.values()]
    rng.shuffle(tail)
    doc["steps"] = [*doc["steps"], *tail]
    return doc


def write_flows(folder: Path, n: int) -> tuple[list[Path], dict[str, list[Any]], list[str]]:
    shutil.copytree(ROOT / "selectors" / "sera", folder / "selectors" / "sera")
    flows = folder / "flows"
    flows.mkdir()
    for sibling in BASE.parent.glob("*.yaml"):  # flows that BASE calls
        shutil.copy(sibling, flows / sibling.name)
    catalog, _ = SelectorCatalog.load(folder / "selectors" / "sera")
    selectors = sorted(catalog.selectors)
    base = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    usable, missing = usable_steps(base, flows, selectors)
    rng = random.Random(42)
    paths: list[Path] = []
    for i in range(n):
        doc = everything(base, i, usable, rng) if i % 5 < 2 else variant(base, i, selectors, rng)
        p = flows / f"flow_{i:03d}.yaml"
        p.write_text(_dump(doc), encoding="utf-8")
        paths.append(p)
    for p in paths:  # every generated flow must be valid, or the timing means nothing
        load_flow(p)
    return paths, usable, missing


def time_once(paths: list[Path]) -> float:
    """One pass as `robots validate` makes it in a new process: nothing cached from an earlier pass (selector
    catalogs, parsed templates), sub-flows and flows read once within the pass."""
    selectors_catalog._CACHE.clear()
    templating.references.cache_clear()
    t0 = time.perf_counter()
    with one_pass():
        for p in paths:
            load_flow(p)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also cProfile one pass")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths, usable, missing = write_flows(folder, opts.flows)
        lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)
        print(f"{len(paths)} flows, {lines} YAML lines; {len(REGISTRY)} registered steps, "
              f"{len(usable)} with a usable example" + (f"; not covered: {', '.join(missing)}" if missing else ""))
        time_once(paths)  # warm-up: imports, Jinja's and pydantic's first-use caches
        times = [time_once(paths) for _ in range(opts.repeats)]
        med = statistics.median(times) * 1000
        print(f"load_flow over {len(paths)} flows: median {med:.0f} ms of {opts.repeats} "
              f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); {med / len(paths):.2f} ms per flow")
        if opts.profile:
            prof = cProfile.Profile()
            prof.enable()
            time_once(paths)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())


if __name__ == "__main__":
    main()
