"""robots as pip installs it from its wheel, away from this checkout: the Sera pack finds its flows, selector
catalogs and features in the installed package (its package data), and a flow runs from any working folder.

The wheel is built from a copy of this checkout (`pip wheel . --no-deps`, build isolation: setuptools comes from
the package registry) once per test session, whichever worker asks first, and installed with `pip install
--target` into a folder that the subprocesses get as PYTHONPATH. That folder comes before the suite's venv on
sys.path, so `import robots` and importlib.metadata (which keeps the first distribution of a name on sys.path) both
see the installed copy, not the editable one: the first test checks it."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from robots.testing import run_flow_cli
from robots.testing.helpers import cli_env

pytestmark = [pytest.mark.browser, pytest.mark.long]

ROOT = Path(__file__).resolve().parents[2]
#: where the Sera pack's data is in the installed package (links to the checkout's top-level folders here)
DATA = "robots/packs/sera/data"
#: the checkout's folders the wheel must ship as the Sera pack's data, by their place in the package
SHIPPED = {f"{DATA}/flows/sera": ROOT / "flows" / "sera", f"{DATA}/selectors/sera": ROOT / "selectors" / "sera",
           f"{DATA}/features": ROOT / "features"}
#: not copied into the build's source: the venv, git, build leftovers (a stale build/ would leak into the wheel)
IGNORED = shutil.ignore_patterns(".venv", ".git", ".robots", "build", "dist", "*.egg-info", "__pycache__",
                                 ".pytest_cache", ".ruff_cache", ".mypy_cache")
SUMMARY = re.compile(r"^run \S+ passed · (\d+) pages · (\d+) rows · [\d.]+ s · (\w+)$", re.M)
SANDBOX = re.compile(r"^robots: no portal URL configured for 'sera'; started the bundled sandbox at "
                     r"http://127\.0\.0\.1:\d+ \(demo account\)$", re.M)


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """(the wheel, the folder it is installed in), made once per session: xdist's workers share the folder above
    their own temporary folders, and the first one there builds while the others wait on a lock."""
    worker = hasattr(request.config, "workerinput")  # an xdist worker
    shared = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    with open(shared / "robots-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        dist, site = shared / "robots-wheel", shared / "robots-site"
        if not (site / "robots").is_dir():
            src = shared / "robots-src"
            shutil.rmtree(src, ignore_errors=True)
            shutil.copytree(ROOT, src, symlinks=True, ignore=IGNORED)
            _pip("wheel", str(src), "--no-deps", "-w", str(dist))
            _pip("install", "--no-deps", "--no-index", "--target", str(site), *map(str, dist.glob("*.whl")))
    (wheel,) = dist.glob("robots-*.whl")
    return wheel, site


def _python(code: str, site: Path, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**cli_env(cwd / "home"), "PYTHONPATH": str(site)}, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _robots(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**cli_env(cwd / "home"), "PYTHONPATH": str(site)}, timeout=300, check=False)


def test_the_wheel_ships_the_sera_packs_folders_and_the_installed_pack_finds_them(built, tmp_path):
    wheel, site = built
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for inside, folder in SHIPPED.items():
            files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            assert files, folder
            for f in files:
                name = f"{inside}/{f.relative_to(folder).as_posix()}"
                assert name in names, f"{name} is not in {wheel.name}"
                assert z.read(name) == f.read_bytes(), name
    seen = json.loads(_python(
        "import importlib.metadata as m, json, robots\n"
        "from robots import packs\n"
        "sera = packs.get('sera')\n"
        "print(json.dumps({'robots': robots.__file__, 'dist': str(m.distribution('robots').locate_file('robots')),\n"
        "                  'flows': str(sera.flows_dir), 'selectors': str(sera.selectors_dir),\n"
        "                  'features': sorted(p.name for p in sera.features_dir.glob('*.feature')),\n"
        "                  'features_dir': str(sera.features_dir)}))\n", site, tmp_path))
    package = site / "robots"
    assert seen["robots"] == str(package / "__init__.py")
    assert seen["dist"] == str(package)
    assert (seen["flows"], seen["selectors"], seen["features_dir"]) == (
        str(package / "packs/sera/data/flows/sera"), str(package / "packs/sera/data/selectors/sera"),
        str(package / "packs/sera/data/features"))
    assert seen["features"] == sorted(p.name for p in (ROOT / "features").glob("*.feature"))
    listed = _robots(["bdd", "steps"], site, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert 'When I run the flow "{flow}"' in listed.stdout
    # With no features/ in the working folder, `robots bdd` takes the ones the installed pack ships.
    done = _robots(["bdd", "--tags", "@not_a_tag", "--portal-url", "http://127.0.0.1:9", "--output",
                    str(tmp_path / "bdd")], site, tmp_path)
    shipped = sorted((package / "packs/sera/data/features").glob("*.feature"))
    assert (done.returncode, done.stderr.splitlines()[-1]) == (
        2, f"error: no scenario matched --tags @not_a_tag in {', '.join(map(str, shipped))}"), done.stderr


def test_the_readme_job_and_a_call_of_a_library_flow_run_from_the_installed_wheel(built, tmp_path):
    _, site = built
    flows = site / "robots" / "packs" / "sera" / "data" / "flows" / "sera"
    work = tmp_path / "work"
    env = {"PYTHONPATH": str(site), "ROBOTS_SANDBOX_SIZE": "small"}
    # The README's main job (scripts/demo): list_customers.yaml against the bundled sandbox, from a folder of its own.
    work.mkdir()
    run = run_flow_cli([str(flows / "list_customers.yaml")], tmp_path / "home", env=env, cwd=work)
    assert run.returncode == 0, run.stderr
    assert SANDBOX.search(run.stderr), run.stderr
    assert SUMMARY.search(run.stderr).groups() == ("3", "120", "list_customers"), run.stderr  # type: ignore[union-attr]
    customers = run.outputs["customers"]
    assert len({c["id"] for c in customers}) == 120
    for c in customers:
        assert c["id"].isdigit() and re.fullmatch(r"C-\d{6}", c["number"])
        assert c["type"] in ("residential", "commercial") and c["status"] in ("active", "inactive", "on_hold")
        assert type(c["balance_cents"]) is int and all(re.fullmatch(r"\+1\d{10}", p) for p in c["phones"])
    # A project's own flow, outside the repository, calls a flow of the installed pack by its path.
    project = work / "flows"
    project.mkdir()
    main = project / "one_customer.yaml"
    main.write_text("name: one_customer\nportal: sera\noutputs: [customer]\nsteps:\n"
                    f"  - call: {{id: detail, flow: {json.dumps(str(flows / 'get_customer.yaml'))}, "
                    "vars: {id: 1003}}\n"
                    "  - set_output: {customer: \"{{ steps.detail.output.customer }}\"}\n")
    run = run_flow_cli([str(main)], tmp_path / "home", env=env, cwd=work)
    assert run.returncode == 0, run.stderr
    customer = run.outputs["customer"]
    assert (customer["id"], customer["name"]) == ("1003", "Zoë O'Brien")
    assert customer["source_url"].endswith("/customers/1003")
