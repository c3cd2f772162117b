"""`robots validate` checks what flows produce and take (issue 18, cases 1, 2 and 6): a field read from a step's
output (`steps.wo.output.work_order.numbr`) against the shape that step declares (a record model's fields, a field
map, a called flow's outputs, `set` values), `output` misspelt, and the syntax of raw `css:` / `xpath:` selectors;
every problem of a file at once, located, exit 2. Shapes it does not know (a script's result) accept any field,
so the shipped flows stay valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from robots import packs
from robots.errors import FlowError
from robots.flow.loader import load_flow, one_pass

REPO = Path(__file__).resolve().parents[2]
ROBOTS = Path(sys.executable).with_name("robots")  # the venv's console script


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project holding a copy of the Sera robot library (flows/sera), where an ops author adds a flow."""
    shutil.copytree(REPO / "flows" / "sera", tmp_path / "flows" / "sera")
    shutil.copytree(REPO / "selectors" / "sera", tmp_path / "selectors" / "sera")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, text: str) -> str:
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return name


def validate(*files: str) -> tuple[int, str, list[str]]:
    done = subprocess.run([str(ROBOTS), "validate", *files], capture_output=True, text=True, timeout=120,
                          check=False)
    return done.returncode, done.stdout, done.stderr.splitlines()


def issues(path: str) -> list[str]:
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    return [str(i) for i in caught.value.issues]


CASE_1 = """
    name: close_out
    portal: sera
    vars:
      id: {required: true, type: integer}
    outputs: [number]
    steps:
      - call: {id: wo, flow: get_work_order.yaml, vars: {id: "{{ vars.id }}"}}
      - set_output:
          number: "{{ steps.wo.output.work_order.numbr }}"
    """


def test_case_1_a_misspelt_field_of_a_called_flows_output(project: Path) -> None:
    write("flows/sera/close_out.yaml", CASE_1)
    assert validate("flows/sera/close_out.yaml") == (2, "", [
        "flows/sera/close_out.yaml:9:15: steps[1].set_output.number: unknown field 'numbr' in "
        "'{{ steps.wo.output.work_order.numbr }}' (did you mean 'number'?)",
        "1 of 1 flow invalid",
    ])


CASE_2 = """
    name: customer_jobs
    portal: sera
    vars:
      id: {required: true, type: integer}
    steps:
      - call: {id: customer, flow: get_customer.yaml, vars: {id: "{{ vars.id }}"}}
      - call: {flow: list_work_orders.yaml, vars: {customer_id: "{{ steps.customer.outputs.x }}"}}
    """


def test_case_2_outputs_for_output(project: Path) -> None:
    write("flows/sera/customer_jobs.yaml", CASE_2)
    assert validate("flows/sera/customer_jobs.yaml") == (2, "", [
        "flows/sera/customer_jobs.yaml:7:61: steps[1].call.vars.customer_id: unknown key 'outputs' in "
        "'{{ steps.customer.outputs }}' (did you mean 'output'?)",
        "1 of 1 flow invalid",
    ])


CASE_6 = """
    name: raw_selectors
    portal: sera
    steps:
      - click: "css:button[type=submit"
      - click: "xpath://button[@type='submit'"
      - extract_list:
          items: "css:ul.jobs >> li"
          fields:
            name: {css: "a..name"}
    """


def test_case_6_raw_selector_syntax(project: Path) -> None:
    write("flows/sera/raw_selectors.yaml", CASE_6)
    assert validate("flows/sera/raw_selectors.yaml") == (2, "", [
        "flows/sera/raw_selectors.yaml:4:12: steps[0].click.target: selector 'css:button[type=submit' is not "
        "valid CSS: malformed attribute selector at character 7",
        "flows/sera/raw_selectors.yaml:5:12: steps[1].click.target: selector \"xpath://button[@type='submit'\" is "
        "not valid XPath: invalid predicate at character 24",
        "flows/sera/raw_selectors.yaml:7:14: steps[2].extract_list.items: selector 'css:ul.jobs >> li' is not "
        "valid CSS: the combinator '>' at character 10 must have a selector before it",
        "flows/sera/raw_selectors.yaml:9:21: steps[2].extract_list.fields.name.css: expected a CSS selector "
        "(malformed class selector at character 2), got 'a..name'",
        "1 of 1 flow invalid",
    ])


def test_every_problem_of_a_file_at_once(project: Path) -> None:
    write("flows/sera/all.yaml", """
        name: all
        portal: sera
        outputs: [number]
        steps:
          - call: {id: wo, flow: get_work_order.yaml, vars: {id: 1}}
          - click: "css:button[type=submit"
          - log: "{{ steps.wo.outputs }}"
          - set_output: {number: "{{ steps.wo.output.work_order.numbr }}"}
        """)
    assert issues("flows/sera/all.yaml") == [
        "flows/sera/all.yaml:6:12: steps[1].click.target: selector 'css:button[type=submit' is not valid CSS: "
        "malformed attribute selector at character 7",
        "flows/sera/all.yaml:7:10: steps[2].log: unknown key 'outputs' in '{{ steps.wo.outputs }}' "
        "(did you mean 'output'?)",
        "flows/sera/all.yaml:8:26: steps[3].set_output.number: unknown field 'numbr' in "
        "'{{ steps.wo.output.work_order.numbr }}' (did you mean 'number'?)",
    ]


def test_shipped_flows_validate_clean() -> None:
    """No false positives: every flow the repository ships (flows/**) and every installed pack's flows."""
    folders = [REPO / "flows", *(p.flows_dir for p in packs.installed().values() if p.flows_dir is not None)]
    files = sorted({f for folder in folders for f in folder.rglob("*.yaml")})
    assert len(files) >= 20
    problems = []
    with one_pass():
        for f in files:
            try:
                load_flow(f)
            except FlowError as e:
                problems += [str(i) for i in e.issues]
    assert problems == []


def test_at_run_time_a_missing_field_fails_the_template_instead_of_passing_an_undefined_on() -> None:
    """Case 1 at run time: `{{ steps.wo.output.work_order.numbr }}` gave Jinja's Undefined as the output's value,
    which only failed when the record was saved (PydanticSerializationError, the record left `running`)."""
    from jinja2 import UndefinedError

    from robots.flow import templating

    context = {"steps": {"wo": {"output": {"work_order": {"number": "WO-1"}}}}}
    with pytest.raises(UndefinedError, match="^'dict object' has no attribute 'numbr'$"):
        templating.render({"number": "{{ steps.wo.output.work_order.numbr }}"}, context)
    with pytest.raises(UndefinedError, match="^'dict object' has no attribute 'numbr'$"):
        templating.render("{{ [steps.wo.output.work_order.numbr] }}", context)
    assert templating.render("{{ steps.wo.output.work_order.numbr | default('-') }}", context) == "-"
    assert templating.render("{{ steps.wo.output.work_order.number }}", context) == "WO-1"


SHAPES = """
    name: shapes
    portal: sera
    outputs: [names]
    steps:
      - extract_table:
          id: rows
          table: customers.table
          fields:
            name: {column: Name}
            address.city: {column: City}
            status: {column: Status, type: enum, values: [active, inactive]}
      - for_each:
          items: steps.rows.output
          steps:
            - log: "{{ loop.item.nmae }} {{ loop.item.address.city }} {{ loop.item.raw_status }}"
      - log: "{{ steps.rows.output.name }} {{ steps.rows.output[0].name }} {{ steps.rows.output | first }}"
      - http_get: {id: page, url: "https://x.test/"}
      - extract_detail: {id: labels, target: customer.details}
      - log: "{{ steps.page.output.anything }} {{ steps.labels.output.whatever }}"
      - log: "{{ steps.rows.output[0].nickname | default('') }} {{ 'y' if steps.rows.output[0].nick is defined }}"
      - set: {first: "{{ steps.rows.output[0] }}"}
      - log: "{{ vars.first.adress }}"
      - log: "{{ loop.index }}"
      - set_output: {names: "{{ steps.rows.output | map(attribute='name') | list }}"}
      - log: "{{ steps.rows.output | selectattr('satus', 'equalto', 'active') | map(attribute='address.cty') | list }}"
      - log: "{{ steps.rows.output | map(attribute='address.cty') | join(', ') }}"
    """


def test_shapes_of_field_maps_loops_lists_and_set_vars(project: Path) -> None:
    write("flows/sera/shapes.yaml", SHAPES)
    assert issues("flows/sera/shapes.yaml") == [
        "flows/sera/shapes.yaml:15:16: steps[1].for_each.steps[0].log: unknown field 'nmae' in "
        "'{{ loop.item.nmae }}' (did you mean 'name'?)",
        "flows/sera/shapes.yaml:16:10: steps[2].log: unknown field 'name' in '{{ steps.rows.output.name }}' "
        "(steps.rows.output is a list: read an item with `| first`, `[0]` or a for_each)",
        "flows/sera/shapes.yaml:22:10: steps[8].log: unknown field 'adress' in '{{ vars.first.adress }}' "
        "(did you mean 'address'?)",
        "flows/sera/shapes.yaml:23:10: steps[9].log: '{{ loop.index }}' is read outside the steps of a for_each or "
        "repeat_until: loop is set only there",
        "flows/sera/shapes.yaml:25:10: steps[11].log: unknown field 'satus' in "
        "'{{ steps.rows.output | selectattr('satus') }}' (did you mean 'status'?)",
        "flows/sera/shapes.yaml:26:10: steps[12].log: unknown field 'cty' in "
        "'{{ steps.rows.output | map(attribute='address.cty') }}' (did you mean 'city'?)",
    ]


def test_at_run_time_a_field_no_validation_could_know_ends_the_run_errored_at_its_step(tmp_path: Path) -> None:
    """A var's mapping comes from the caller, so validation accepts any field of it; the run fails at the step
    whose template reads the missing field (exit 3, the record `errored`), no traceback."""
    from robots.testing.helpers import cli_env, run_flow_cli

    flow = tmp_path / "typo.yaml"
    flow.write_text("name: typo\nvars:\n  wo: {type: mapping, default: {work_order: {number: WO-1}}}\n"
                    "outputs: [number]\nsteps:\n  - set_output: {number: \"{{ vars.wo.work_order.numbr }}\"}\n")
    run = run_flow_cli([str(flow)], tmp_path / "home")
    assert (run.returncode, run.stdout) == (3, ""), run.stderr
    assert run.stderr.splitlines()[-2:] == [
        "error: steps[0].set_output: template failed: 'dict object' has no attribute 'numbr'",
        f"  at {flow}:6: steps[0].set_output (technical: TechnicalError)",
    ]
    assert "Traceback" not in run.stderr
    shown = subprocess.run([str(ROBOTS), "runs", "show", run.run_id, "--json"], capture_output=True, text=True,
                           env=cli_env(tmp_path / "home"), timeout=60, check=True)
    assert '"status": "errored"' in shown.stdout


def test_what_a_call_gives_a_flow_fits_its_vars(project: Path) -> None:
    """What flows take: a literal value a `call:` passes is checked against the called flow's var (its type, its
    choices with did-you-mean), as `--var` is at run time; a template is checked once rendered."""
    write("flows/sera/scheduled.yaml", """
        name: scheduled
        portal: sera
        vars:
          when: {default: scheduled}
        steps:
          - call: {flow: list_work_orders.yaml, vars: {status: schedulled}}
          - call: {flow: get_work_order.yaml, vars: {id: twelve}}
          - call: {flow: list_work_orders.yaml, vars: {status: "{{ vars.when }}"}}
          - call: {flow: get_work_order.yaml, vars: {id: "12"}}
        """)
    assert issues("flows/sera/scheduled.yaml") == [
        "flows/sera/scheduled.yaml:6:56: steps[0].call.vars.status: var 'status' must be one of unscheduled, "
        "scheduled, dispatched, in_progress, paused, on_hold, completed, canceled (or the default ''); got "
        "'schedulled' (did you mean 'scheduled'?)",
        "flows/sera/scheduled.yaml:7:50: steps[1].call.vars.id: var 'id' must be an integer, got 'twelve'",
    ]


def test_an_output_gets_a_value_of_its_declared_type(project: Path) -> None:
    """What flows produce: a `set_output` whose value has a known shape of another type than the output declares
    (a record for a list); a value whose shape no step can tell passes."""
    write("flows/sera/typed.yaml", """
        name: typed
        portal: sera
        vars:
          id: {required: true, type: integer}
        outputs:
          customers: {type: list}
          name: {type: string}
          total: {type: integer}
          any: {type: mapping}
        steps:
          - call: {id: customer, flow: get_customer.yaml, vars: {id: "{{ vars.id }}"}}
          - set_output:
              customers: "{{ steps.customer.output.customer }}"
              name: "{{ steps.customer.output.customer.name }}"
              total: "{{ steps.customer.output.customer.balance_cents }}"
              any: "{{ steps.customer.output.customer | default({}) }}"
          - set_output: {total: "{{ steps.customer.output.customer.name }}"}
        """)
    assert issues("flows/sera/typed.yaml") == [
        "flows/sera/typed.yaml:13:18: steps[1].set_output.customers: output 'customers' is declared a list, but "
        "'{{ steps.customer.output.customer }}' is a sera.customer_detail record",
        "flows/sera/typed.yaml:17:25: steps[2].set_output.total: output 'total' is declared an integer, but "
        "'{{ steps.customer.output.customer.name }}' is text",
    ]
