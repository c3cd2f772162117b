"""Schemathesis against the API's own /openapi.json, bounded examples per operation: whatever the input, the answer
is never a 500 and every error is the one envelope. The API has no portal here (portal endpoints end at their
input checks or at 503 portal_not_configured) and may run only tests/api/flows/echo.yaml (no browser)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from robots.api import ApiSettings, create_app

from .conftest import TEST_FLOWS, ApiClient, serve


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiClient, str]]:
    home = tmp_path_factory.mktemp("fuzz")
    flows = home / "flows"
    flows.mkdir()
    shutil.copy(TEST_FLOWS / "echo.yaml", flows / "echo.yaml")
    app = create_app(ApiSettings(database_url=f"sqlite:///{home}/robots.db", home=home / "home", flows_dir=flows,
                                 portal_url=None, rate_limit=100000, webhook_secret="fuzz", allowed_flows=("echo",),
                                 ip_rate_limit=100000, anonymous_rate_limit=100000))
    with serve(app) as client:
        raw, _ = app.state.tokens.create(["admin"], label="fuzz", ttl=timedelta(hours=1))
        yield client, raw


def test_no_input_gets_a_500(fuzzed: tuple[ApiClient, str]) -> None:
    client, raw = fuzzed
    schema = schemathesis.openapi.from_dict(client.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    seen: dict[int, int] = {}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case: Any) -> None:
            response = case.call(base_url=str(client.base_url), headers={"Authorization": f"Bearer {raw}"})
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code != 500, f"{case.method} {case.formatted_path}: {response.text}"
            if response.status_code >= 400:
                error = response.json()["error"]
                assert set(error) == {"type", "message", "details", "request_id"}
                assert [error["request_id"]] == response.headers["x-request-id"]  # schemathesis: lists, lower case

        check()
    assert {200, 404, 422} <= set(seen)
    # Nothing here was about the portal: no run may have started a browser.
    assert not list(Path(client.app.state.settings.home, "runs").glob("*/processes.json"))
