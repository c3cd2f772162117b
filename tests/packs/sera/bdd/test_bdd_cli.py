"""`robots bdd` as QA runs it: features in a folder, the step library, JUnit XML and the HTML report with the
failure screenshot inline; unknown step text listing the closest known steps; `robots bdd steps`."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from robots.packs.sera.bdd import STEPS
from robots.testing.helpers import cli_env

ROOT = Path(__file__).resolve().parents[4]

pytestmark = pytest.mark.browser

FEATURE = """\
Feature: What the report shows
  Scenario: Nothing signed in yet
    Given the sandbox Sera portal
    And the flow vars:
      | q | smith |
    Then the portal saw 0 requests to "POST /login"

  @smoke
  Scenario: A refused password, then a wrong expectation
    Given I am logged in to tenant "acme" as "tom"
    And no session is stored for me
    And the account's sera_password is "not-the-password"
    When I run the flow "flows/sera/sign_in.yaml"
    Then the run passed
    And no selector drift was recorded

  Scenario: A typo in a step
    Given I am loged in to tenant "acme" as the dispatcher
    When I run the flow "flows/sera/sign_in.yaml"
"""


def _bdd(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", "bdd", *args], capture_output=True, text=True,
                          env=cli_env(home), cwd=ROOT, timeout=300, check=False)


def test_features_run_with_junit_and_an_html_report_with_the_failure_screenshot(sandbox, tmp_path):
    features = tmp_path / "features"
    features.mkdir()
    (features / "report.feature").write_text(FEATURE)
    out = tmp_path / "out"
    done = _bdd([str(features), "--portal-url", sandbox.url, "--output", str(out)], tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[-1] == (f"bdd: 3 scenarios · 1 passed · 1 failed · 1 with unknown steps · junit {out}/junit.xml "
                         f"· html {out}/report.html")
    assert lines[0] == (f"{features}/report.feature:14: A refused password, then a wrong expectation: Then the run "
                        "passed: expected the run to pass, but the run failed: CredentialsRejected: login rejected: "
                        "Invalid username or password. (steps[1] login: failed)")
    assert lines[1:-1] == [
        f"{features}/report.feature:18: A typo in a step: unknown step: Given I am loged in to tenant \"acme\" as "
        f"the dispatcher ({features}/report.feature:18, scenario \"A typo in a step\"); the closest known steps:",
        '  Given I am logged in to tenant "{tenant}" as the {role}',
        '  Given I am logged in to tenant "{tenant}" as "{username}"',
        '  Given the flow var "{name}" is the list:',
    ]

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    assert [(c.get("classname"), c.get("name"), c.find("failure") is not None) for c in suite.iter("testcase")] == [
        ("What the report shows", "Nothing signed in yet", False),
        ("What the report shows", "A refused password, then a wrong expectation", True),
        ("What the report shows", "A typo in a step", True)]

    page = (out / "report.html").read_text()
    assert "<h1>Gherkin report: 1 of 3 scenarios passed</h1>" in page
    assert "<h2>Feature: What the report shows (" in page
    assert "<h3>Scenario: A refused password, then a wrong expectation <span class='tags'>@smoke</span></h3>" in page
    assert ("<div class='step skipped'><span class='mark'>–</span> <span class='kw'>And</span> no selector drift "
            "was recorded</div>") in page
    assert "<table class='data'><tr><td>q</td><td>smith</td></tr></table>" in page
    assert page.count("<img alt='failure screenshot' src='data:image/png;base64,iVBORw0KGgo") == 1
    assert "Truck 42 pass 2026!" not in page  # tom's real password never reaches the report

    only_smoke = _bdd([str(features), "--portal-url", sandbox.url, "--output", str(out), "--tags", "@smoke"],
                      tmp_path)
    assert only_smoke.returncode == 1
    assert only_smoke.stderr.splitlines()[-1].startswith("bdd: 1 scenarios · 0 passed · 1 failed · junit")


def test_no_matching_scenario_is_an_input_error(sandbox, tmp_path):
    (tmp_path / "x.feature").write_text(FEATURE)
    done = _bdd([str(tmp_path / "x.feature"), "--portal-url", sandbox.url, "--output", str(tmp_path / "out"),
                 "--tags", "@nightly"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"error: no scenario matched --tags @nightly in {tmp_path}/x.feature"


def test_steps_lists_every_step_with_an_example(tmp_path):
    done = _bdd(["steps"], tmp_path)
    assert done.returncode == 0, done.stderr
    for doc in STEPS:
        assert f"{doc.line()}\n    {doc.example.splitlines()[0]}\n" in done.stdout
    assert 'Given the portal answers {percent:d}% of requests with errors\n' \
           '    Given the portal answers 10% of requests with errors\n' in done.stdout
    md = _bdd(["steps", "--format", "markdown"], tmp_path)
    assert md.stdout.splitlines()[:2] == ["| step | example | what it does |", "| --- | --- | --- |"]
    assert len(md.stdout.splitlines()) == len(STEPS) + 2


PICK = """\
Feature: Picking scenarios
  Scenario: The portal is quiet
    Given the sandbox Sera portal
    Then the portal saw 0 requests to "POST /login"

  Scenario: The portal saw a sign-in
    Given the sandbox Sera portal
    Then the portal saw 1 requests to "POST /login"
"""


@pytest.mark.long
@pytest.mark.timeout(600)  # five `robots bdd` processes, three of them running pytest
def test_one_scenario_by_file_and_line_or_by_name_and_the_failing_steps_line(sandbox, tmp_path):
    feature = tmp_path / "pick.feature"
    feature.write_text(PICK)
    out = ["--portal-url", sandbox.url, "--output", str(tmp_path / "out")]

    def summary(done: subprocess.CompletedProcess[str]) -> str:
        return done.stderr.splitlines()[-1].split(" · junit")[0]

    both = _bdd([str(feature), *out], tmp_path)
    assert both.returncode == 1, both.stderr
    assert both.stderr.splitlines()[0] == (f"{feature}:8: The portal saw a sign-in: Then the portal saw 1 requests to "
                                           '"POST /login": expected 1 requests to POST /login, the portal saw 0')
    assert summary(both) == "bdd: 2 scenarios · 1 passed · 1 failed"
    at_a_line = _bdd([f"{feature}:4", *out], tmp_path)  # a step's line: the scenario holding it
    assert (at_a_line.returncode, summary(at_a_line)) == (0, "bdd: 1 scenarios · 1 passed · 0 failed"), \
        at_a_line.stderr
    by_name = _bdd([str(feature), "--name", "The portal saw a sign-in", *out], tmp_path)
    assert (by_name.returncode, summary(by_name)) == (1, "bdd: 1 scenarios · 0 passed · 1 failed"), by_name.stderr
    nowhere = _bdd([f"{feature}:1", *out], tmp_path)
    assert (nowhere.returncode, nowhere.stderr) == (2, f"error: {feature}:1: no scenario at line 1; its scenarios "
                                                       "start at lines 2, 6\n")
    unnamed = _bdd([str(feature), "--name", "The portal is loud", *out], tmp_path)
    assert (unnamed.returncode, unnamed.stderr) == (2, f"error: no scenario named 'The portal is loud' in {feature}\n")
