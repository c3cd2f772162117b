"""`call:` resolves only inside the flows folder of the flow being run (and the flows of the installed portal packs,
the Sera pack's flows/sera/), and an error about a called file never shows what the file holds. Checked by `robots
validate` and `robots run` alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from robots.testing import run_flow_cli

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "flows"
SERA_FLOWS = LIBRARY / "sera"
SECRET_LINES = "db_password: Tr0ub4dor-and-3-horses\naws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCY\n"


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", "validate", *map(str, paths)], capture_output=True,
                          text=True, timeout=120, check=False)


def _flows(tmp_path: Path) -> Path:
    folder = tmp_path / "project" / "flows"
    (folder / "team").mkdir(parents=True)
    return folder


def _caller(folder: Path, target: str, name: str = "main.yaml") -> Path:
    path = folder / name
    path.write_text(f"name: main\nsteps:\n  - log: start\n  - call: {target}\n")
    return path


def _outside(flows: Path, target: str) -> str:
    return (f"steps[1].call.flow: '{target}' is outside the flows folder {flows}; a flow may call only flows "
            f"in that folder (and its subfolders) or the flows of the portal pack 'sera' ({SERA_FLOWS})")


def test_an_absolute_path_outside_is_refused_without_reading_it(tmp_path):
    flows = _flows(tmp_path)
    main = _caller(flows, "/etc/shadow")
    done = _validate(main)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"{main}:4:11: {_outside(flows, '/etc/shadow')}\n1 of 1 flow invalid\n")


def test_a_dot_dot_traversal_is_refused(tmp_path):
    flows = _flows(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text("name: x\nsteps:\n  - log: escaped\n")
    main = _caller(flows, "../../outside/x.yaml")
    done = _validate(main)
    assert (done.returncode, done.stderr) == (
        2, f"{main}:4:11: {_outside(flows, '../../outside/x.yaml')}\n1 of 1 flow invalid\n")


def test_a_refused_call_is_an_input_error_of_run_before_anything_starts(tmp_path):
    flows = _flows(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text("name: x\nsteps:\n  - log: escaped\n")
    main = _caller(flows, "../../outside/x.yaml")
    run = run_flow_cli([str(main)], tmp_path / "home")
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", f"{main}:4:11: {_outside(flows, '../../outside/x.yaml')}\n1 problem found; nothing was run.\n")
    assert not (tmp_path / "home" / "runs").exists()


def test_a_symlink_inside_the_flows_folder_pointing_outside_is_refused(tmp_path):
    flows = _flows(tmp_path)
    secret = tmp_path / "secret.yaml"
    secret.write_text(SECRET_LINES)
    (flows / "team" / "helper.yaml").symlink_to(secret)
    main = _caller(flows, "team/helper.yaml")
    done = _validate(main)
    assert (done.returncode, done.stderr) == (
        2, f"{main}:4:11: {_outside(flows, 'team/helper.yaml')}\n1 of 1 flow invalid\n")


def test_a_called_file_that_is_not_a_flow_is_named_never_shown(tmp_path):
    flows = _flows(tmp_path)
    (flows / "notes.yaml").write_text(SECRET_LINES)
    (flows / "list.yaml").write_text("- Tr0ub4dor-and-3-horses\n- wJalrXUtnFEMI/K7MDENG/bPxRfiCY\n")
    (flows / "broken.yaml").write_text('db_password: "Tr0ub4dor-and-3-horses\naws: [wJalrXUtnFEMI/K7MDENG\n')
    for name in ("notes.yaml", "list.yaml", "broken.yaml"):
        main = _caller(flows, name, name=f"call_{name}")
        done = _validate(main)
        assert done.returncode == 2
        for secret in ("Tr0ub4dor", "horses", "wJalrXUtnFEMI", "K7MDENG", "db_password", "aws"):
            assert secret not in done.stdout + done.stderr, (name, done.stderr)
        assert done.stderr.startswith(f"{main}:4:11: steps[1].call.flow: the called file '{name}' is not "), \
            done.stderr


def test_a_called_file_that_is_not_a_flow_says_so(tmp_path):
    flows = _flows(tmp_path)
    (flows / "notes.yaml").write_text(SECRET_LINES)
    (flows / "broken.yaml").write_text('steps: *undefined_alias_name\n')
    main = _caller(flows, "notes.yaml")
    done = _validate(main)
    assert done.stderr == (f"{main}:4:11: steps[1].call.flow: the called file 'notes.yaml' is not a flow (a flow "
                           f"is a mapping with 'name' and 'steps'; the file's content is not shown)\n"
                           "1 of 1 flow invalid\n")
    main = _caller(flows, "broken.yaml")
    done = _validate(main)
    assert done.stderr == (f"{main}:4:11: steps[1].call.flow: the called file 'broken.yaml' is not valid YAML at "
                           "line 1: found undefined alias (text not shown)\n1 of 1 flow invalid\n")


def test_calls_in_the_same_folder_a_subfolder_and_the_library_still_work(tmp_path):
    flows = _flows(tmp_path)
    (flows / "team" / "helper.yaml").write_text("name: helper\nsteps:\n  - call: ../common.yaml\n")
    (flows / "common.yaml").write_text("name: common\nsteps:\n  - log: common\n")
    main = flows / "team" / "main.yaml"
    main.write_text("name: main\nsteps:\n  - call: helper.yaml\n  - call: ../common.yaml\n")
    top = flows / "top.yaml"
    top.write_text(f"name: top\nsteps:\n  - call: team/helper.yaml\n  - call: common.yaml\n"
                   f"  - call: {{flow: {LIBRARY / 'sera' / 'get_customer.yaml'}, vars: {{id: '1003'}}}}\n")
    done = _validate(main, top)
    assert (done.returncode, done.stderr) == (0, "2 flows valid\n")


def test_a_flow_outside_any_flows_folder_may_call_its_own_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("name: b\nsteps:\n  - log: b\n")
    main = tmp_path / "a.yaml"
    main.write_text("name: a\nsteps:\n  - call: sub/b.yaml\n")
    done = _validate(main)
    assert (done.returncode, done.stderr) == (0, "1 flow valid\n")


def test_the_shipped_and_test_flows_still_validate():
    flows = sorted(LIBRARY.rglob("*.yaml")) + sorted((ROOT / "tests").rglob("flows/*.yaml"))
    assert len({p.parent for p in flows if "tests" in p.parts}) == 6  # browser, api, scheduler, the Sera pack's three
    done = _validate(*flows)
    assert done.returncode == 0, done.stderr
