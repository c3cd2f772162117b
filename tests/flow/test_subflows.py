"""`call` (sub-flows) and `finally` at load time: missing files, cycles, vars passed, secrets gathered."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from robots.errors import FlowError
from robots.flow.loader import load_flow, one_pass


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    return [str(i) for i in caught.value.issues]


def test_a_called_flow_is_loaded_and_its_secrets_gathered(tmp_path):
    write(tmp_path, "sign_in.yaml", """
        name: sign_in
        secrets: [password]
        vars: {user: {required: true}}
        steps:
          - fill: {target: "css:#u", value: "{{ vars.user }}"}
          - fill: {target: "css:#p", value: "{{ secrets.password }}"}
        """)
    main = write(tmp_path, "main.yaml", """
        name: main
        secrets: [api_key]
        steps:
          - call: {flow: sign_in.yaml, vars: {user: ops}}
        finally:
          - log: bye
        """)
    flow = load_flow(main)
    assert flow.all_secrets() == ("api_key", "password")
    assert [s.name for s in flow.subflows.values()] == ["sign_in"]
    assert [c.where for c in flow.walk()] == ["steps[0]", "finally[0]"]


def test_call_problems_are_reported_where_the_call_is(tmp_path):
    write(tmp_path, "sub.yaml", """
        name: sub
        vars: {user: {required: true}, tenant: acme}
        steps:
          - log: hi
        """)
    main = write(tmp_path, "main.yaml", """
        name: main
        steps:
          - call: nope.yaml
          - call: {flow: sub.yaml, vars: {usr: x}}
        """)
    assert problems(main) == [
        f"{main}:3:11: steps[0].call.flow: no flow file 'nope.yaml' (looked for {tmp_path / 'nope.yaml'})",
        f"{main}:4:11: steps[1].call: 'sub.yaml' needs var 'user'; pass it under 'vars:'",
        f"{main}:4:35: steps[1].call.vars: 'sub.yaml' has no var 'usr' (did you mean 'user'?)",
    ]


def test_a_call_cycle_is_reported(tmp_path):
    a = write(tmp_path, "a.yaml", "name: a\nsteps:\n  - call: b.yaml\n")
    b = write(tmp_path, "b.yaml", "name: b\nsteps:\n  - call: a.yaml\n")
    assert problems(a) == [
        f"{a}:3:11: steps[0].call.flow: the called flow 'b.yaml' is invalid (1 problem, listed with it)",
        f"{b}:3:11: steps[0].call.flow: call cycle: a.yaml → b.yaml → a.yaml",
    ]


def test_finally_steps_are_validated_like_steps(tmp_path):
    main = write(tmp_path, "main.yaml", """
        name: main
        steps:
          - log: hi
        finally:
          - lg: bye
          - log: "{{ vars.nope }}"
        """)
    assert problems(main) == [
        f"{main}:5:5: finally[0]: unknown step 'lg' (did you mean 'log'?)",
        f"{main}:6:10: finally[1].log: unknown var 'nope' in '{{{{ vars.nope }}}}' (declare it under 'vars:')",
    ]


def test_in_one_pass_a_flow_called_by_many_is_read_once_and_an_edit_is_seen_by_the_next_pass(tmp_path):
    sub = write(tmp_path, "sub.yaml", """
        name: sub
        steps:
          - log: hi
        """)
    callers = [write(tmp_path, f"main{i}.yaml", f"""
        name: main{i}
        steps:
          - call: sub.yaml
        """) for i in range(3)]
    with one_pass():
        flows = [load_flow(p) for p in callers]
        assert load_flow(tmp_path / "." / "sub.yaml") is flows[0].subflows[str(sub.resolve())]
    assert len({id(f.subflows[str(sub.resolve())]) for f in flows}) == 1
    write(tmp_path, "sub.yaml", """
        name: sub
        steps:
          - lgo: hi
        """)
    with one_pass():
        for caller in callers:  # an invalid flow is not kept: every caller reports it
            assert problems(caller) == [
                f"{sub}:3:5: steps[0]: unknown step 'lgo' (did you mean 'log'?)",
                f"{caller}:3:11: steps[0].call.flow: the called flow 'sub.yaml' is invalid (1 problem, listed with it)",
            ]
