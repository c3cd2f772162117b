"""`robots bdd [PATHS] [--tags EXPR] [--portal-url URL]` runs Gherkin features with the shipped step library
(pytest-bdd underneath) and writes JUnit XML and an HTML report; `robots bdd steps` lists the steps.
Registered by robots/cli/__init__.py; like every command module, it prints and sets exit codes."""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from robots.cli.common import err
from robots.extras import require
from robots.settings import settings

#: pytest's exit codes -> ours (C2): 0 passed, 1 a scenario failed, 2 nothing to run / bad input, 3 errored
_EXIT = {0: 0, 1: 1, 2: 3, 3: 3, 4: 2, 5: 2}


def bdd_command(
    paths: Annotated[list[str] | None, typer.Argument(help="feature files or folders (default: features/, else "
                                                            "the features the installed packs ship), a file:LINE "
                                                            "for the one scenario at that line; `steps` lists "
                                                            "the step library instead")] = None,
    tags: Annotated[str | None, typer.Option(help="a tag expression: '@smoke', '@smoke and not @slow'")] = None,
    name: Annotated[str | None, typer.Option("--name", help="only the scenarios of this name (else those whose "
                                                            "name contains it)")] = None,
    portal_url: Annotated[str | None, typer.Option(help="run against this portal instead of starting the "
                                                        "bundled sandbox")] = None,
    output: Annotated[Path, typer.Option(help="folder for report.html and junit.xml")] = Path(".robots/bdd"),
    format: Annotated[str, typer.Option(help="for `robots bdd steps`: text or markdown")] = "text",
    verbose: Annotated[bool, typer.Option("-v", help="pytest's own output on stderr")] = False,
) -> None:
    """Run Gherkin features against the portal: the sandbox (started for the run) unless --portal-url is given.
    Writes OUTPUT/junit.xml and OUTPUT/report.html (feature, scenario, step; the failure screenshot inline).
    Exit code 0 when every scenario passed, 1 when one failed, 2 when none matched."""
    require("bdd", "robots bdd")
    if paths == ["steps"] and not Path("steps").exists():
        print(steps_listing(format))
        return
    picked = [_at_line(p) for p in paths or []]
    files = _feature_files([p for p, _ in picked] if picked else _default_features())
    chosen = _chosen(files, {Path(p).resolve(): line for p, line in picked if line is not None}, name)
    output.mkdir(parents=True, exist_ok=True)
    junit, report, events = output / "junit.xml", output / "report.html", output / "events.jsonl"
    events.unlink(missing_ok=True)
    url = portal_url or settings().portal_url
    with contextlib.ExitStack() as stack:
        if not url:
            url = stack.enter_context(_sandbox(settings().sandbox_size or "default")).url
            err.print(f"robots: no portal URL given; started the bundled sandbox at {url}", markup=False)
        with tempfile.TemporaryDirectory(prefix="robots-bdd-") as tmp:
            rc = _pytest(Path(tmp), files, tags, url, events, junit, verbose, chosen)
    results = read_events(events)
    if junit.exists():
        name_testcases(junit, results)
    report.write_text(render_html(results), encoding="utf-8")
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("passed", "failed", "undefined")}
    for r in results:
        for step in r["steps"]:
            if step["status"] in ("failed", "undefined"):
                said = "" if step["status"] == "undefined" else f"{step['keyword']} {step['text']}: "
                err.print(f"{r['file']}:{step.get('line') or r['line']}: {r['scenario']}: {said}{step['error']}",
                          markup=False)
    err.print(f"bdd: {len(results)} scenarios · {counts['passed']} passed · {counts['failed']} failed"
              + (f" · {counts['undefined']} with unknown steps" if counts["undefined"] else "")
              + f" · junit {junit} · html {report}", markup=False)
    if rc == 5:
        err.print(f"error: no scenario matched{f' --tags {tags}' if tags else ''} in {', '.join(map(str, files))}",
                  markup=False)
    raise typer.Exit(_EXIT.get(rc, 3))


def _step_packs() -> list[Any]:
    """The installed portal packs that bring Gherkin steps (PortalPack.bdd_steps), by name."""
    from robots import packs

    found = [pack for _, pack in sorted(packs.installed().items()) if pack.bdd_steps]
    if not found:
        err.print("error: no installed portal pack brings Gherkin steps (robots.packs: PortalPack.bdd_steps)",
                  markup=False)
        raise typer.Exit(2)
    return found


def _default_features() -> list[str]:
    """`features/` of the working folder, else the features that the installed packs with Gherkin steps ship
    (PortalPack.features_dir: package data, so that an installed pack's features run from any folder)."""
    if Path("features").exists():
        return ["features"]
    shipped = [str(p.features_dir) for p in _step_packs() if p.features_dir is not None and p.features_dir.is_dir()]
    return shipped or ["features"]


def _sandbox(size: str) -> Any:
    """The bundled sandbox of the first pack with steps and a sandbox (a context manager yielding its handle)."""
    for pack in _step_packs():
        if pack.sandbox is not None:
            return pack.sandbox(size)
    err.print("error: no portal URL given (--portal-url or ROBOTS_PORTAL_URL) and no installed portal pack with "
              "Gherkin steps brings a sandbox", markup=False)
    raise typer.Exit(2)


def _feature_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.rglob("*.feature"))
        elif p.is_file():
            files.append(p)
        else:
            err.print(f"error: no such feature file or folder: {p}", markup=False)
            raise typer.Exit(2)
    if not files:
        err.print(f"error: no .feature files under {', '.join(paths)}", markup=False)
        raise typer.Exit(2)
    return [f.resolve() for f in files]


def _at_line(path: str) -> tuple[str, int | None]:
    """`features/x.feature:28` -> (the file, 28): the scenario at that line; any other path -> (path, None)."""
    m = re.fullmatch(r"(.+\.feature):(\d+)", path)
    if m is None or Path(path).exists():
        return path, None
    return m.group(1), int(m.group(2))


def _chosen(files: list[Path], lines: dict[Path, int], name: str | None) -> dict[Path, list[str]] | None:
    """The scenarios to run by file, when a file:LINE or --name picks them (None: every scenario of the files).
    Nothing picked is an input error (exit 2) naming what was asked and what is there."""
    if not lines and name is None:
        return None
    from pytest_bdd.feature import get_feature

    chosen: dict[Path, list[str]] = {}
    for file in files:
        scenarios = get_feature("/", str(file)).scenarios
        names = list(scenarios)
        if file in lines:
            line = lines[file]
            starts = sorted((s.line_number, n) for n, s in scenarios.items())
            last_line = len(file.read_text(encoding="utf-8").splitlines())
            at = [n for start, n in starts if start <= line]
            if not at or line > last_line:
                err.print(f"error: {file}:{line}: no scenario at line {line}; its scenarios start at lines "
                          f"{', '.join(str(start) for start, _ in starts) or '(none)'}", markup=False)
                raise typer.Exit(2)
            names = [at[-1]]
        if name is not None:
            names = [n for n in names if n == name] or [n for n in names if name in n]
        if names:
            chosen[file] = names
    if not chosen:
        err.print(f"error: no scenario named {name!r} in {', '.join(map(str, files))}", markup=False)
        raise typer.Exit(2)
    return chosen


def tag_expression(tags: str) -> str:
    """'@smoke and not @slow' -> pytest's marker expression 'smoke and not slow'."""
    return re.sub(r"@([\w.-]+)", r"\1", tags)


def _pytest(tmp: Path, files: list[Path], tags: str | None, url: str, events: Path, junit: Path,
            verbose: bool, chosen: dict[Path, list[str]] | None = None) -> int:
    (tmp / "conftest.py").write_text("".join(f"from {p.bdd_steps} import *  # noqa: F403\n" for p in _step_packs()))
    if chosen is None:
        module = f"from pytest_bdd import scenarios\n\nscenarios(*{[str(f) for f in files]!r})\n"
    else:  # the scenarios a file:LINE or --name picked, one test each
        module = "from pytest_bdd import scenario\n" + "".join(
            f"\n\n@scenario({str(file)!r}, {name!r})\ndef test_{i}_{j}():\n    pass\n"
            for i, (file, names) in enumerate(chosen.items()) for j, name in enumerate(names))
    (tmp / "test_features.py").write_text(module)
    (tmp / "pytest.ini").write_text("[pytest]\njunit_family = xunit2\n")
    cmd = [sys.executable, "-m", "pytest", str(tmp / "test_features.py"), "-c", str(tmp / "pytest.ini"),
           "--rootdir", str(tmp), "-p", "no:cacheprovider", f"--junitxml={junit.resolve()}", "-q",
           "-o", "junit_suite_name=robots-bdd"]
    if tags:
        cmd += ["-m", tag_expression(tags)]
    env = {**os.environ, "ROBOTS_BDD_PORTAL_URL": url, "ROBOTS_BDD_BASE": os.getcwd(),
           "ROBOTS_BDD_EVENTS": str(events.resolve())}
    done = subprocess.run(cmd, env=env, cwd=os.getcwd(), stdout=None if verbose else subprocess.DEVNULL,
                          stderr=None if verbose else subprocess.DEVNULL, check=False)
    return done.returncode


def name_testcases(junit: Path, scenarios: list[dict[str, Any]]) -> None:
    """Gives the JUnit test cases Gherkin names: classname the feature, name the scenario (with an outline's
    example values in brackets), as CI systems show them."""
    import xml.etree.ElementTree as ET

    by_test = {s["nodeid"].split("::")[-1]: s for s in scenarios}
    tree = ET.parse(junit)
    for case in tree.getroot().iter("testcase"):
        s = by_test.get(case.get("name", ""))
        if s is None:
            continue
        params = re.search(r"\[.*\]$", case.get("name", ""))
        case.set("classname", s["feature"])
        case.set("name", s["scenario"] + (f" {params.group(0)}" if params else ""))
        case.set("file", s["file"])
        case.set("line", str(s["line"]))
    tree.write(junit, encoding="utf-8", xml_declaration=True)


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events the step library wrote, folded into scenarios: each with its steps (status passed, failed,
    undefined, or skipped for those after a failure) and its own status."""
    scenarios: list[dict[str, Any]] = []
    if not path.exists():
        return scenarios
    for line in path.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e["event"] == "scenario":
            scenarios.append({**e, "ran": []})
        elif scenarios:
            scenarios[-1]["ran"].append(e)
    for s in scenarios:
        ran = s.pop("ran")
        steps = []
        for i, (keyword, text) in enumerate(s["steps"]):
            if i < len(ran):
                steps.append(ran[i])
            else:
                steps.append({"keyword": keyword, "text": text, "status": "skipped"})
        s["steps"] = steps
        bad = [st["status"] for st in steps if st["status"] in ("failed", "undefined")]
        s["status"] = bad[0] if bad else ("passed" if len(ran) == len(steps) else "failed")
    return scenarios


_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}
.feature{margin:1.5em 0}.feature>h2{font-size:1.15em;border-bottom:1px solid #ccc}
.scenario{margin:.6em 0 .6em 1em;padding:.4em .8em;border-left:4px solid #999}
.scenario.passed{border-color:#2a2}.scenario.failed,.scenario.undefined{border-color:#c22}
.step{margin:.15em 0;font-family:ui-monospace,monospace}.kw{font-weight:bold}
.passed .mark{color:#2a2}.failed .mark,.undefined .mark{color:#c22}.skipped{color:#999}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}img{max-width:900px;border:1px solid #ccc}
.tags{color:#669;font-size:.9em}table.data{border-collapse:collapse;margin:.2em 0 .2em 2em;font-size:.9em}
table.data td{border:1px solid #ccc;padding:.1em .5em}"""

_MARKS = {"passed": "✔", "failed": "✘", "undefined": "?", "skipped": "–"}


def render_html(scenarios: list[dict[str, Any]]) -> str:
    """One self-contained page: feature → scenario → step, errors under their step, screenshots inline."""
    e = html.escape
    passed = sum(1 for s in scenarios if s["status"] == "passed")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>robots bdd</title><style>{_CSS}</style>"
             f"</head><body><h1>Gherkin report: {passed} of {len(scenarios)} scenarios passed</h1>"]
    features: dict[str, list[dict[str, Any]]] = {}
    for s in scenarios:
        features.setdefault(f"{s['feature']} ({s['file']})", []).append(s)
    for title, items in features.items():
        parts.append(f"<section class='feature'><h2>Feature: {e(title)}</h2>")
        for s in items:
            tags = " ".join("@" + t for t in s["tags"])
            parts.append(f"<div class='scenario {e(s['status'])}'><h3>Scenario: {e(s['scenario'])} "
                         f"<span class='tags'>{e(tags)}</span></h3>")
            for st in s["steps"]:
                parts.append(f"<div class='step {e(st['status'])}'><span class='mark'>{_MARKS[st['status']]}</span> "
                             f"<span class='kw'>{e(st['keyword'])}</span> {e(st['text'])}</div>")
                if st.get("table"):
                    rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in st["table"])
                    parts.append(f"<table class='data'>{rows}</table>")
                if st.get("error"):
                    parts.append(f"<pre>{e(st['error'])}</pre>")
                shot = st.get("screenshot")
                if shot and Path(shot).is_file():
                    data = base64.b64encode(Path(shot).read_bytes()).decode()
                    parts.append(f"<p>Failure screenshot (run {e(str(st.get('run_id')))}):</p>"
                                 f"<img alt='failure screenshot' src='data:image/png;base64,{data}'>")
            parts.append("</div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def steps_listing(fmt: str = "text") -> str:
    """Every step of the installed packs' step libraries (PortalPack.bdd_steps) with its example (`robots bdd
    steps`)."""
    import importlib

    STEPS = [d for p in _step_packs() for d in importlib.import_module(p.bdd_steps).STEPS]

    out: list[str] = []
    if fmt == "markdown":
        out.append("| step | example | what it does |\n| --- | --- | --- |")
        for d in STEPS:
            example = d.example.replace("\n", "<br>").replace("|", "\\|")
            out.append(f"| `{d.line()}` | `{example}` | {d.doc} |")
        return "\n".join(out)
    for d in STEPS:
        out.append(d.line())
        out.append("    " + d.example.replace("\n", "\n    "))
        if d.doc:
            out.append("    # " + d.doc)
        out.append("")
    return "\n".join(out).rstrip()
