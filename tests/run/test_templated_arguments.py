"""Templated numbers and flags (`max_times: "{{ vars.rounds }}"`): accepted at load time, checked once
rendered. No browser: the steps used here do not need one."""

from __future__ import annotations

from pathlib import Path

import pytest

from robots import load_flow
from robots.engine import Runner
from robots.errors import FlowError
from robots.records import MemoryStore

FLOW = """\
name: rounds
vars:
  rounds: {default: 3, type: integer}
  bad: {default: many}
outputs: [rounds]
steps:
  - repeat_until:
      id: looped
      until: "false"
      max_times: "{{ vars.rounds }}"
      steps:
        - log: "round {{ loop.index }}"
  - set_output: {rounds: "{{ steps.looped.output }}"}
"""


def _flow(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "rounds.yaml"
    f.write_text(text)
    return f


def test_a_templated_number_takes_the_rendered_value(tmp_path):
    flow = load_flow(_flow(tmp_path, FLOW))
    runner = Runner(store=MemoryStore(), home=tmp_path, trigger="test")
    for rounds in (2, 4):
        record = runner.run(flow, vars={"rounds": rounds})
        assert (record.status, record.error_message) == (
            "errored", f"repeat_until: the condition was still false after {rounds} rounds")


def test_the_options_every_step_takes_stay_literal(tmp_path):
    with pytest.raises(FlowError) as e:
        load_flow(_flow(tmp_path, FLOW.replace("      id: looped\n",
                                               "      id: looped\n      optional: '{{ vars.bad }}'\n")))
    assert [str(i) for i in e.value.issues] == [
        f"{tmp_path}/rounds.yaml:9:17: steps[0].repeat_until.optional: expected true or false, "
        "got '{{ vars.bad }}'",
        # the step with the error has no id yet, so the output that reads it is reported too
        f"{tmp_path}/rounds.yaml:14:26: steps[1].set_output.rounds: unknown step id 'looped' in "
        "'{{ steps.looped }}'"]


def test_a_template_that_renders_to_the_wrong_kind_names_the_step_and_argument(tmp_path):
    flow = load_flow(_flow(tmp_path, FLOW.replace('max_times: "{{ vars.rounds }}"', 'max_times: "{{ vars.bad }}"')))
    record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow)
    assert record.status == "errored"
    assert record.error_message == ("steps[0].repeat_until.max_times: input should be a valid integer, unable to "
                                    "parse string as an integer, got 'many' from its template")
    assert (record.failure_kind, record.error_location.step if record.error_location else None) == (
        "input", "steps[0].repeat_until")  # an input error the step found: exit 2


def test_a_literal_of_the_wrong_kind_is_still_a_load_error(tmp_path):
    with pytest.raises(FlowError) as e:
        load_flow(_flow(tmp_path, FLOW.replace('max_times: "{{ vars.rounds }}"', "max_times: many")))
    assert [str(i) for i in e.value.issues] == [
        f"{tmp_path}/rounds.yaml:10:18: steps[0].repeat_until.max_times: expected an integer, got 'many'",
        f"{tmp_path}/rounds.yaml:13:26: steps[1].set_output.rounds: unknown step id 'looped' in "
        "'{{ steps.looped }}'"]


PAGINATE = """\
name: walk
vars:
  fetch: {default: script}
steps:
  - paginate:
      url: "https://example.test/customers"
      fetch: "{{ vars.fetch }}"
      next: "css:a[rel=next]"
      max_pages: 3
      steps:
        - extract_table: {id: rows, table: "css:table", fields: {name: {column: Name}}}
"""


def test_a_templated_choice_is_checked_against_the_other_arguments_once_rendered(tmp_path):
    """`fetch` allows browser, page, script or http, and `url` goes only with the last three: the template is
    accepted at load time, and the rendered value is checked with the rest of the step."""
    flow = load_flow(_flow(tmp_path, PAGINATE))
    record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow, vars={"fetch": "browser"})
    assert (record.status, record.error_message) == (
        "errored", "steps[0].paginate: 'url' goes with fetch: page, script or http (with fetch: browser, open the "
                   "page first)")
