"""The dry run's dependency rule (robots.run.dryrun), as pure logic on parsed flows: what a step reads, what it
produces, which steps a write that was not submitted takes with it, and `verifies:` checked at load time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from robots.errors import FlowError
from robots.flow.loader import _walk, load_flow
from robots.masking import Masker
from robots.run.dryrun import DryRun, Loop, produces, reads

FLOW = """
    name: writer
    vars: {q: ""}
    steps:
      - set: {found: [], submits: 0}
      - repeat_until:
          id: rounds
          until: "vars.found | length > 0"
          max_times: 3
          steps:
            - extract_table: {id: probe, table: "css:table", fields: {id: {row_attr: data-id}}}
            - set: {found: "{{ steps.probe.output }}"}
            - if:
                condition: "vars.found | length == 0 and vars.q == ''"
                steps:
                  - fill: {target: "css:#name", value: "{{ vars.q }}", when: "vars.submits < 3"}
                  - click: {id: submit, target: "css:#save", write: true}
      - call: {id: readback, flow: other.yaml, vars: {id: "{{ vars.found[0].id }}"}}
      - read_text: {id: page, target: "css:h1", verifies: submit}
      - set: {first: "{{ vars.q }}"}
      - set_output: {item: "{{ steps.readback.output }}", title: "{{ steps.page.output }}"}
    outputs: {item: {}, title: {}}
    """


def load(tmp_path: Path, text: str = FLOW) -> dict[str, object]:
    (tmp_path / "other.yaml").write_text("name: other\nvars: {id: {}}\nsteps:\n  - log: '{{ vars.id }}'\n")
    (tmp_path / "writer.yaml").write_text(textwrap.dedent(text).lstrip())
    flow = load_flow(tmp_path / "writer.yaml")
    return {f"{c.where}.{c.kind}": c for c in _walk(flow.steps)}


def test_a_step_reads_its_own_templates_only_and_produces_its_output_and_vars(tmp_path):
    calls = load(tmp_path)
    assert reads(calls["steps[1].repeat_until.steps[2].if"]) == ("vars.found", "vars.q")  # not its nested steps'
    fill = calls["steps[1].repeat_until.steps[2].if.steps[0].fill"]
    assert reads(fill) == ("vars.submits", "vars.q")  # its `when` too
    assert reads(calls["steps[5].set_output"]) == ("steps.readback", "steps.page")
    assert reads(calls["steps[1].repeat_until"]) == ("vars.found",)
    assert produces(calls["steps[0].set"]) == ("vars.found", "vars.submits")
    assert produces(calls["steps[2].call"]) == ("steps.readback",)
    assert produces(calls["steps[1].repeat_until.steps[2].if"]) == ()


def test_what_a_write_not_submitted_takes_with_it(tmp_path):
    calls = load(tmp_path)
    scope: dict[str, object] = {}
    dry = DryRun()
    assert all(dry.why_skip(scope, c) is None for c in calls.values())  # nothing skipped yet: nothing depends
    submit = "steps[1].repeat_until.steps[2].if.steps[1].click"
    # rule 2: the loop ends at the round whose write was not submitted; what its steps produce is not produced
    loop = Loop(calls["steps[1].repeat_until"], scope)
    dry.loops.append(loop)
    dry.round_started(calls["steps[1].repeat_until.steps[0].extract_table"])
    for where in ("steps[1].repeat_until.steps[0].extract_table", "steps[1].repeat_until.steps[1].set"):
        dry.produced(scope, calls[where])
    dry.not_produced(scope, produces(calls[submit]), submit)
    dry.round_ended(loop, submit)
    dry.loops.remove(loop)
    assert loop.rounds == 1
    assert dry.missing(scope) == {"steps.submit": submit, "steps.probe": submit, "vars.found": submit}
    # rule 3: the read-back reads vars.found
    assert dry.why_skip(scope, calls["steps[2].call"]) == (
        f"reads vars.found, which depends on the write {submit} that the dry run did not submit")
    dry.skip(scope, calls["steps[2].call"], "steps[2].call", "…")
    # rule 4: the page check verifies the write
    assert dry.why_skip(scope, calls["steps[3].read_text"]) == (
        f"verifies the write {submit}, which the dry run did not submit")
    dry.skip(scope, calls["steps[3].read_text"], "steps[3].read_text", "…")
    # a step reading only what was produced runs; one reading a skipped step's output is skipped in turn
    assert dry.why_skip(scope, calls["steps[4].set"]) is None
    assert dry.why_skip(scope, calls["steps[5].set_output"]) == (
        f"reads steps.readback, which depends on the write {submit} that the dry run did not submit")
    assert [s["step"] for s in dry.skipped] == ["steps[2].call", "steps[3].read_text"]
    # a step that produces a name again (a fresh read) makes it readable again
    dry.produced(scope, calls["steps[1].repeat_until.steps[1].set"])
    assert "vars.found" not in dry.missing(scope)
    # another flow run (a called flow) has names of its own
    assert dry.missing({}) == {}


def test_outputs_a_dry_run_could_not_set_are_excused_only_when_it_skipped_something():
    dry = DryRun()
    assert dry.excuses(["item"]) == ["item"]  # nothing skipped: a flow that sets no output is still wrong
    dry.not_submit("steps[1].click", "save", "css:#save", "http://x/new", None)
    assert dry.excuses(["item", "title"]) == []
    assert dry.outputs_not_set == ["item", "title"]


def test_a_write_reports_what_its_form_was_given_since_the_page_was_opened_secrets_masked():
    dry = DryRun()
    dry.enter("form.search", "old page")
    dry.page_opened()
    dry.enter("form.name", "Ada")
    dry.enter("form.token", "pm_secret")
    dry.enter("form.autopay", True)
    dry.not_submit("steps[3].click", "save it", "form.submit", "http://x/new?t=pm_secret", ("form.note", "hi"))
    dry.not_submit("steps[5].click", None, "form.again", None, None)  # the previous write took the form's values
    report = dry.report(Masker(["pm_secret"])).model_dump()
    assert report["not_submitted"] == (
        {"step": "steps[3].click", "name": "save it", "target": "form.submit", "url": "http://x/new?t=••••••",
         "fields": ({"target": "form.name", "value": "Ada"}, {"target": "form.token", "value": "••••••"},
                    {"target": "form.autopay", "value": True}, {"target": "form.note", "value": "hi"})},
        {"step": "steps[5].click", "name": None, "target": "form.again", "url": None, "fields": ()})


@pytest.mark.parametrize(("verifies", "problem"), [
    ("submitt", "no write step has the id 'submitt' (did you mean 'submit'?)"),
    ("probe", "'probe' is the id of a 'extract_table' step, which submits nothing; verifies names a write step "
              "(one marked write: true)"),
    ("nothing", "no write step has the id 'nothing' (write steps with an id: submit)"),
])
def test_verifies_names_a_write_step_of_the_flow(tmp_path, verifies, problem):
    with pytest.raises(FlowError) as caught:
        load(tmp_path, FLOW.replace("verifies: submit", f"verifies: {verifies}"))
    assert [str(i) for i in caught.value.issues] == [
        f"{tmp_path / 'writer.yaml'}:18:55: steps[3].read_text.verifies: {problem}"]
