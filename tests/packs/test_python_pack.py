"""A portal pack in Python, installed by pip like any distribution: its `robots.portals` entry point declares the
pack (profile, record models, selector catalogs, a sandbox, a steps hook), its `robots.steps` entry point adds a
flow step. A project flow for that portal, with no URL configured, runs against the pack's own sandbox in a real
Chromium, using both steps. A distribution whose step takes a name already in use is refused, naming both.

The distributions are wheels built here and installed with `pip install --target` into a folder given to the runs
as PYTHONPATH, so that the suite's venv (shared by parallel workers) never sees them."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from robots.testing import run_flow_cli
from robots.testing.helpers import cli_env

from . import static_portal

pytestmark = pytest.mark.browser

#: what a pack's pyproject.toml declares as `[project.entry-points."robots.portals"]` and `."robots.steps"`
PACK_ENTRY_POINTS = """
    [robots.portals]
    acme = acme_pack:PACK

    [robots.steps]
    acme = acme_pack.steps
"""
PACK = {
    "acme_pack/__init__.py": '''
        """The Acme portal for robots."""
        import contextlib
        from pathlib import Path

        from robots.packs import PortalPack, SandboxHandle


        def _models():
            from acme_pack.models import Order

            return {"acme.order": Order}


        @contextlib.contextmanager
        def _sandbox(size):
            from acme_pack import portal

            with portal.serving() as served:
                yield SandboxHandle(served.url, None, "UTC", secrets={
                    "acme_username": portal.USERNAME, "acme_password": portal.PASSWORD})


        def _steps():
            from acme_pack import totals  # noqa: F401 - registers acme_total


        PACK = PortalPack(
            name="acme",
            profile={"url": "https://{tenant}.acme.example", "time_zone": "UTC", "sandbox": True},
            models=_models,
            selectors_dir=Path(__file__).parent / "selectors" / "acme",
            sandbox=_sandbox,
            steps=_steps,
            origin="entry point acme_pack:PACK",
        )
    ''',
    "acme_pack/models.py": '''
        from typing import Literal

        from pydantic import BaseModel, ConfigDict, Field


        class Order(BaseModel):
            model_config = ConfigDict(extra="forbid", frozen=True)

            id: str = Field(pattern=r"^\\d+$")
            customer: str
            status: Literal["open", "shipped"]
            raw_status: str
            total_cents: int
            source_url: str
            scraped_at: str
    ''',
    "acme_pack/steps.py": '''
        from robots.steps import StepArgs, step


        class SignInArgs(StepArgs):
            username: str
            password: str


        @step("acme_sign_in", navigates=True)
        def acme_sign_in(ctx, args: SignInArgs) -> str:
            """Sign in to Acme with its login form. Output: the URL after it."""
            ctx.browser.open(f"{ctx.portal.url}/login")
            ctx.browser.fill(ctx.selector("login.username"), args.username, ctx.timeout)
            ctx.browser.fill(ctx.selector("login.password"), args.password, ctx.timeout)
            ctx.browser.click(ctx.selector("login.submit"), ctx.timeout)
            return ctx.browser.url
    ''',
    "acme_pack/totals.py": '''
        from typing import Any

        from robots.steps import StepArgs, step


        class TotalArgs(StepArgs):
            orders: Any


        @step("acme_total")
        def acme_total(ctx, args: TotalArgs) -> int:
            """The orders' total in cents."""
            return sum(o["total_cents"] for o in args.orders)
    ''',
    "acme_pack/selectors/acme/login.yaml": """
        username: "id:username"
        password: "id:password"
        submit: "id:sign-in"
    """,
    "acme_pack/selectors/acme/orders.yaml": """
        table: "id:orders"
    """,
}

CLASH_ENTRY_POINTS = """
    [robots.steps]
    clash = clash_steps:register
"""
CLASH = {
    "clash_steps.py": '''
        from robots.steps import StepArgs, step


        class Args(StepArgs):
            target: str


        def register():
            @step("fill")
            def fill(ctx, args: Args) -> None:
                """Another fill."""
    ''',
}

FLOW = """
    name: acme_orders
    portal: acme
    secrets: [acme_username, acme_password]
    outputs: {orders: {type: list}, total_cents: {}}
    steps:
      - acme_sign_in: {username: "{{ secrets.acme_username }}", password: "{{ secrets.acme_password }}"}
      - extract_table:
          id: rows
          table: orders.table
          record: acme.order
          fields:
            id: {row_attr: data-id}
            customer: {column: Customer}
            status: {column: Status, type: enum, values: {Open: open, Shipped: shipped}}
            total_cents: {column: Total, type: money}
      - acme_total: {id: total, orders: "{{ steps.rows.output }}"}
      - set_output: {orders: "{{ steps.rows.output }}", total_cents: "{{ steps.total.output }}"}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text).lstrip())
    return root


def wheel(out: Path, dist: str, files: dict[str, str], entry_points: str) -> Path:
    """A wheel of `files` (path -> text) declaring `entry_points` (entry_points.txt), as a build backend makes
    one (the suite's venv has no `wheel` for setuptools to build one with)."""
    info = f"{dist}-0.1.0.dist-info"
    contents = {rel: textwrap.dedent(text).lstrip() for rel, text in files.items()}
    contents |= {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n",
                 f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
                 f"{info}/entry_points.txt": textwrap.dedent(entry_points).lstrip()}

    def digest(text: str) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()

    record = [f"{rel},sha256={digest(text)},{len(text.encode())}" for rel, text in contents.items()]
    path = out / f"{dist}-0.1.0-py3-none-any.whl"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for rel, text in contents.items():
            z.writestr(rel, text)
        z.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")
    return path


def pip_install(wheel_file: Path, target: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--disable-pip-version-check", "--target", str(target), str(wheel_file)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def installed(tmp_path):
    """The Acme pack, installed by pip into a folder of its own; the environment that makes it importable."""
    files = {**PACK, "acme_pack/portal.py": Path(static_portal.__file__).read_text()}
    site = tmp_path / "site"
    pip_install(wheel(tmp_path / "dist", "acme_robots_pack", files, PACK_ENTRY_POINTS), site)
    assert (site / "acme_pack" / "selectors" / "acme" / "login.yaml").is_file()
    return {"PYTHONPATH": str(site)}


def test_an_installed_python_pack_runs_on_its_own_sandbox_with_its_own_steps(installed, tmp_path):
    flow = write(tmp_path / "work", {"flows/acme/orders.yaml": FLOW}) / "flows/acme/orders.yaml"
    run = run_flow_cli([str(flow)], tmp_path / "home", env=installed, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^robots: no portal URL configured for 'acme'; started the bundled sandbox at "
                     r"http://127\.0\.0\.1:\d+ \(demo account\)$", run.stderr, re.M), run.stderr
    orders = run.outputs["orders"]
    assert [(o["id"], o["customer"], o["status"], o["total_cents"]) for o in orders] == [
        ("1001", "Ada Lovelace", "open", 123450), ("1002", "Grace Hopper", "shipped", 8000)]
    assert run.outputs["total_cents"] == 131450
    assert static_portal.PASSWORD not in run.stderr
    listed = subprocess.run([sys.executable, "-m", "robots.cli", "steps"], capture_output=True, text=True,
                            env={**cli_env(tmp_path / "home"), **installed}, timeout=120, check=True).stdout
    assert "\nacme_sign_in\n    Sign in to Acme with its login form." in listed
    assert "\nacme_total\n    The orders' total in cents." in listed


def test_without_the_pack_the_same_flow_is_refused_before_anything_starts(tmp_path):
    flow = write(tmp_path / "work", {"flows/acme/orders.yaml": FLOW}) / "flows/acme/orders.yaml"
    run = run_flow_cli([str(flow)], tmp_path / "home", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "steps[0]: unknown step 'acme_sign_in'" in run.stderr


def test_a_step_that_takes_a_used_name_is_refused_naming_both_origins(installed, tmp_path):
    site = Path(installed["PYTHONPATH"])
    pip_install(wheel(tmp_path / "dist", "clash_steps", CLASH, CLASH_ENTRY_POINTS), site)
    flow = write(tmp_path / "work", {"flows/acme/orders.yaml": FLOW}) / "flows/acme/orders.yaml"
    done = subprocess.run([sys.executable, "-m", "robots.cli", "validate", str(flow)], capture_output=True,
                          text=True, env={**cli_env(tmp_path / "home"), **installed}, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (
        "error: step 'fill' of entry point 'clash' (clash_steps:register) of group robots.steps collides with the "
        "step 'fill' of module robots.steps.forms: a step name can be registered once; rename one of them")
