"""A flow a portal pack ships, named `<pack>/<flow>` from any folder (`robots run sera/get_customer`), as the API
names them: an installed robots has no flows/ folder in the user's working directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robots import packs
from robots.errors import FlowError
from robots.flow.loader import load_flow
from robots.testing.helpers import run_flow_cli

ROBOTS = Path(sys.executable).with_name("robots")  # the venv's console script


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder outside the repository, holding no flows."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_pack_flow_by_name_with_or_without_its_suffix(elsewhere: Path) -> None:
    shipped = packs.get("sera").flows_dir / "list_customers.yaml"
    assert load_flow("sera/list_customers").path == shipped
    assert load_flow("sera/list_customers.yaml").path == shipped


def test_a_file_of_that_name_in_the_working_folder_comes_first(elsewhere: Path) -> None:
    (elsewhere / "sera").mkdir()
    (elsewhere / "sera" / "list_customers.yaml").write_text("name: mine\nsteps:\n  - log: mine\n")
    assert load_flow("sera/list_customers.yaml").name == "mine"
    assert load_flow("sera/list_customers").name == "list_customers"  # no file named that: the pack's


def test_a_name_the_pack_lacks_says_where_it_looked_with_a_suggestion(elsewhere: Path) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow("sera/list_customerz")
    looked = packs.get("sera").flows_dir / "list_customerz.yaml"
    assert [str(i) for i in caught.value.issues] == [
        f"sera/list_customerz: no such flow file (looked for sera/list_customerz and, in the portal pack 'sera', "
        f"{looked}) (did you mean 'sera/list_customers'?)"]
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("name", ["sera/../../../etc/passwd", "sera/../sera/list_customers", "/sera/list_customers",
                                  "nopack/list_customers"])
def test_only_a_plain_name_inside_an_installed_pack_is_looked_up(elsewhere: Path, name: str) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(name)
    assert [str(i) for i in caught.value.issues] == [f"{name}: no such flow file"]


def test_validate_takes_the_name(elsewhere: Path) -> None:
    done = subprocess.run([str(ROBOTS), "validate", "sera/list_customers", "sera/get_customer"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "2 flows valid\n")


@pytest.mark.browser
def test_run_takes_the_name_from_a_folder_with_no_flows(elsewhere: Path) -> None:
    done = run_flow_cli(["sera/get_customer", "--var", "id=1003"], elsewhere / "home", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    customer = json.loads(done.stdout)["customer"]
    assert (customer["id"], customer["name"]) == ("1003", "Zoë O'Brien")
