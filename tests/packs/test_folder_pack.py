"""A portal added with YAML alone (robots.packs.folder), in a project folder outside the repository: its profile,
two flows, a selector catalog and a YAML record model. `robots run` signs in with a real Chromium and returns
records checked by that model; the same flow on a redesigned page stops with scrape drift naming the field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from robots.testing import run_flow_cli

from . import static_portal

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

FILES = {
    "portals/shop.yaml": """
        url: {url}          # no {{tenant}} placeholder: the URL as it is
        time_zone: UTC
    """,
    "selectors/shop/login.yaml": """
        username: ["id:username", "css:input[name=username]"]
        password: "id:password"
        submit: "id:sign-in"
        error: "id:error"
    """,
    "selectors/shop/orders.yaml": """
        table: "id:orders"
    """,
    "models/shop.yaml": """
        order:
          description: one row of the orders table
          fields:
            id: {type: string, required: true, pattern: "^\\\\d+$"}
            customer: {type: string, required: true}
            status: {type: string, enum: [open, shipped, canceled]}
            raw_status: string
            total_cents: {type: money, required: true}
            placed_on: date
    """,
    "flows/shop/sign_in.yaml": """
        name: sign_in
        portal: shop
        secrets: [shop_username, shop_password]
        steps:
          - open: "{{ portal.url }}/login"
          - fill: {target: login.username, value: "{{ secrets.shop_username }}"}
          - fill: {target: login.password, value: "{{ secrets.shop_password }}"}
          - click: login.submit
          - wait_for: {target: orders.table, fail_on: {login.error: login rejected}}
    """,
    "flows/shop/list_orders.yaml": """
        name: list_orders
        portal: shop
        outputs: {orders: {type: list}}
        steps:
          - call: sign_in.yaml
          - extract_table:
              id: rows
              table: orders.table
              record: shop.order
              fields:
                id: {row_attr: data-id}
                customer: {column: Customer}
                status: {column: Status, type: enum, values: {Open: open, Shipped: shipped, Canceled: canceled}}
                total_cents: {column: Total, type: money}
                placed_on: {column: Placed, type: date}
          - set_output: {orders: "{{ steps.rows.output }}"}
    """,
}


def write_project(root: Path, url: str) -> Path:
    for rel, text in FILES.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text).lstrip().replace("{url}", url))
    return root


@pytest.fixture
def portal():
    with static_portal.serving() as p:
        yield p


@pytest.fixture
def project(tmp_path, portal):
    assert not tmp_path.is_relative_to(ROOT)
    return write_project(tmp_path / "project", portal.url)


def _run(project: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"  # any working folder: everything is found from the flow's folder
    elsewhere.mkdir(exist_ok=True)
    return run_flow_cli([str(project / "flows/shop/list_orders.yaml")], tmp_path / "home", cwd=elsewhere,
                        env={"ROBOTS_SECRET_SHOP_USERNAME": static_portal.USERNAME,
                             "ROBOTS_SECRET_SHOP_PASSWORD": static_portal.PASSWORD})


def test_a_yaml_only_pack_signs_in_and_returns_model_checked_records(project, portal, tmp_path):
    run = _run(project, tmp_path)
    assert run.returncode == 0, run.stderr
    orders = run.outputs["orders"]
    for order in orders:
        assert order.pop("source_url") == f"{portal.url}/orders"
        assert UTC.match(order.pop("scraped_at"))
    assert orders == [
        {"id": "1001", "customer": "Ada Lovelace", "status": "open", "raw_status": "Open", "total_cents": 123450,
         "placed_on": "2025-03-14"},
        {"id": "1002", "customer": "Grace Hopper", "status": "shipped", "raw_status": "Shipped", "total_cents": 8000,
         "placed_on": "2025-03-15"},
    ]
    assert re.search(r"^run \S+ passed · .* · list_orders$", run.stderr, re.M), run.stderr
    assert static_portal.PASSWORD not in run.stderr


def test_a_redesigned_page_is_scrape_drift_naming_the_field(project, portal, tmp_path):
    portal.shape = "b"  # the customer's name is no longer in its cell
    run = _run(project, tmp_path)
    assert run.returncode == 3, run.stderr
    assert ("scrape drift: record 1 does not fit 'shop.order': field 'customer' input should be a valid string "
            "(got None)") in run.stderr
