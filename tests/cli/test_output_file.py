"""`robots run --output FILE`: the file is checked before the run starts (a bad path is an input error and nothing
runs), and written through a new temporary file beside it that is renamed over it: no `.part` file or symlink
planted there is followed."""

from __future__ import annotations

import json
from pathlib import Path

from robots.testing import run_flow_cli

# A flow that needs neither a portal nor a browser: its one step sets the output.
FLOW = "name: no_browser\noutputs: [x]\nsteps:\n  - set_output: {x: 1}\n"


def _flow(tmp_path: Path) -> str:
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW)
    return str(path)


def _nothing_ran(home: Path) -> None:
    assert not (home / "runs").exists()  # no run folder: no browser, no step
    assert not (home / "robots.db").exists()  # no record either


def test_a_missing_directory_is_an_input_error_before_the_run(tmp_path):
    home = tmp_path / "home"
    run = run_flow_cli([_flow(tmp_path), "--output", "/nope/x.json"], home)
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", "error: --output /nope/x.json: the directory /nope does not exist\n")
    _nothing_ran(home)


def test_a_parent_that_is_a_file_is_an_input_error_before_the_run(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "plain").write_text("not a folder")
    target = tmp_path / "plain" / "x.json"
    run = run_flow_cli([_flow(tmp_path), "--output", str(target)], home)
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", f"error: --output {target}: {tmp_path / 'plain'} is not a directory\n")
    _nothing_ran(home)


def test_a_directory_nobody_may_write_in_is_an_input_error_before_the_run(tmp_path):
    # sysfs refuses new files even to root (the tests run as root, so a chmod would not stop them).
    home = tmp_path / "home"
    run = run_flow_cli([_flow(tmp_path), "--output", "/sys/x.json"], home)
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", "error: --output /sys/x.json: cannot create a file in /sys: Permission denied\n")
    _nothing_ran(home)


def test_a_directory_as_the_target_is_an_input_error_before_the_run(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "out.json").mkdir()
    run = run_flow_cli([_flow(tmp_path), "--output", str(tmp_path / "out.json")], home)
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", f"error: --output {tmp_path / 'out.json'}: is a directory\n")
    _nothing_ran(home)


def test_an_unknown_file_type_is_an_input_error_before_the_run(tmp_path):
    home = tmp_path / "home"
    run = run_flow_cli([_flow(tmp_path), "--output", str(tmp_path / "x.txt")], home)
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", "error: --output: unknown file type '.txt'; use .json, .jsonl or .csv\n")
    _nothing_ran(home)


def test_a_planted_part_symlink_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.json.part").symlink_to(victim)
    run = run_flow_cli([_flow(tmp_path), "--output", str(out / "x.json")], tmp_path / "home")
    assert run.returncode == 0, run.stderr
    assert victim.read_text() == "keep me\n"
    assert not (out / "x.json").is_symlink()
    assert json.loads((out / "x.json").read_text()) == {"x": 1}
    # Nothing of the run is left beside it but the file (the planted link is the user's, left alone).
    assert sorted(p.name for p in out.iterdir()) == ["x.json", "x.json.part"]


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    target = tmp_path / "x.json"
    target.symlink_to(victim)
    run = run_flow_cli([_flow(tmp_path), "--output", str(target)], tmp_path / "home")
    assert run.returncode == 0, run.stderr
    assert victim.read_text() == "keep me\n"
    assert not target.is_symlink()
    assert json.loads(target.read_text()) == {"x": 1}


def test_a_good_output_is_written_whole(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old\n")
    run = run_flow_cli([_flow(tmp_path), "--output", str(target)], tmp_path / "home")
    assert (run.returncode, run.stdout) == (0, "")
    assert json.loads(target.read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow.yaml", "home", "x.json"]


def test_a_csv_for_a_flow_that_declares_no_list_output_is_refused_before_the_run(tmp_path):
    home = tmp_path / "home"
    path = tmp_path / "typed.yaml"
    path.write_text("name: typed\noutputs:\n  count: {type: integer}\n  names: {type: list}\n  ids: {type: list}\n"
                    "steps:\n  - set_output: {count: 1, names: [a], ids: [1]}\n")
    target = tmp_path / "out.csv"
    run = run_flow_cli([str(path), "--output", str(target)], home)
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", f"error: --output {target}: a .csv file holds one list output, and {path} declares 2 (names, ids); "
               "use a .json file\n")
    _nothing_ran(home)
    path.write_text("name: typed\noutputs:\n  count: {type: integer}\nsteps:\n  - set_output: {count: 1}\n")
    run = run_flow_cli([str(path), "--output", str(tmp_path / "out.jsonl")], home)
    assert (run.returncode, run.stderr) == (
        2, f"error: --output {tmp_path / 'out.jsonl'}: a .jsonl file holds one list output, and {path} declares "
           "none; use a .json file\n")
    _nothing_ran(home)
