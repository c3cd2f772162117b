"""Input that sticks and widgets, driven through real Chromium: `fill` and `clear` on controlled fields (the sandbox's
single-page app, a Vue v-model; a local page's date, time and datetime-local inputs and contenteditable), read back
after typing; `choose` on native selects, ARIA comboboxes (Vuetify v-select), an autocomplete with options fetched
as you type, radio groups, a listbox that slides in and a menu; `press` with chords; `script` and `storage`.
Failures 3, 4 and 5 of issue 17 (docs: README, "The flow language")."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots import load_flow
from robots.engine import Runner
from robots.errors import FlowError
from robots.packs.sera.sandbox import credentials
from robots.portals import open_portal
from robots.records import MemoryStore

FLOWS = Path(__file__).resolve().parent / "flows" / "inputs"
WIDGETS = (Path(__file__).resolve().parent / "pages" / "widgets.html").as_uri()
ROBOTS = Path(sys.executable).with_name("robots")

pytestmark = pytest.mark.browser


def _secrets() -> dict[str, str]:
    c = credentials()
    return {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"],
            "sera_mfa_to": ""}


def _run(flow: Path, tmp_path: Path, sandbox: Any = None, **vars: str) -> Any:
    runner = Runner(store=MemoryStore(), home=tmp_path, trigger="test")
    if sandbox is None:
        return runner.run(load_flow(flow), vars=vars)
    with open_portal("sera", url=sandbox.url) as portal:
        return runner.run(load_flow(flow), vars=vars, secrets=_secrets(), portal=portal)


def _passed(record: Any) -> dict[str, Any]:
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])
    return dict(record.outputs)


def _db(sandbox: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in sandbox.rows(sql, *params)]


def _flow(tmp_path: Path, body: str, name: str = "flow.yaml") -> Path:
    """A small flow on the widgets page, with the input tests' selector catalog."""
    path = tmp_path / name
    path.write_text(f"name: {path.stem}\nselectors: {FLOWS / 'selectors'}\nvars:\n  page: {{default: '{WIDGETS}'}}\n"
                    + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


# -- failure 3: fill on a controlled input -------------------------------------------------------------------------


def test_fill_replaces_what_a_vue_field_holds_and_the_portal_stores_it(sandbox, tmp_path):
    """WebElement.clear() empties the field on screen only: the app kept 'Austin' and got 'AustinRound Rock'."""
    # The flow reads the "Customer updated." notice, which shows for the undo window: long enough to be read after
    # the page settles (100 ms was not, once reads waited for a settled page).
    httpx.post(f"{sandbox.url}/_sandbox/app", json={"undo_ms": 1500}).raise_for_status()
    assert _db(sandbox, "SELECT city FROM customers WHERE id = 1003") == [("Austin",)]
    out = _passed(_run(FLOWS / "edit_city.yaml", tmp_path, sandbox))
    assert out == {"shown": "Round Rock", "stored": "Round Rock"}
    assert _db(sandbox, "SELECT city FROM customers WHERE id = 1003") == [("Round Rock",)]


def test_fill_and_clear_work_like_a_person_on_every_kind_of_field(tmp_path):
    out = _passed(_run(FLOWS / "widgets_fill.yaml", tmp_path, page=WIDGETS))
    assert out == {
        "controlled": "new value",
        "date": "2026-12-12", "time": "10:30", "moment": "2026-12-12T10:30",
        "events": "date:input=2026-12-12 date:change=2026-12-12 time:input=10:30 time:change=10:30 "
                  "when:input=2026-12-12T10:30 when:change=2026-12-12T10:30",
        "notes": "Zoë's new note",
        "phone": "(512) 555-0143",  # a mask: `verify: false`
        "cleared": "x",  # clear emptied the app's state too, not only the screen
    }


def test_fill_reads_the_value_back_and_says_what_the_field_holds(tmp_path):
    record = _run(_flow(tmp_path, """
        steps:
          - open: "{{ vars.page }}"
          - fill: {target: widgets.short, value: Round Rock}
        """), tmp_path)
    assert record.status == "errored"
    assert record.error_message == "the field 'widgets.short' holds 'Roun' after fill, not 'Round Rock'"
    record = _run(_flow(tmp_path, """
        steps:
          - open: "{{ vars.page }}"
          - fill: {target: widgets.phone, value: "5125550143"}
        """), tmp_path)
    assert record.error_message == "the field 'widgets.phone' holds '(512) 555-0143' after fill, not '5125550143'"
    record = _run(_flow(tmp_path, """
        steps:
          - open: "{{ vars.page }}"
          - fill: {target: widgets.date, value: 12/12/2026}
        """), tmp_path)
    assert record.error_message == ("the field 'widgets.date' holds '' after fill, not '12/12/2026' (a date input "
                                    "takes YYYY-MM-DD)")


# -- failure 4: choose on ARIA widgets --------------------------------------------------------------------------------


def test_choose_on_a_vuetify_select_and_an_async_autocomplete(sandbox, tmp_path):
    out = _passed(_run(FLOWS / "choose_work_orders.yaml", tmp_path, sandbox))
    scheduled = [r[0] for r in _db(sandbox, "SELECT number FROM work_orders WHERE status = 'scheduled' "
                                            "ORDER BY id DESC LIMIT 25")]  # fmt: skip
    location = _db(sandbox, "SELECT name FROM service_locations WHERE customer_id = 1003")
    assert len(location) == 1
    assert out["status"] == "Scheduled" and out["numbers"] == scheduled
    assert out["customer"] == "Zoë O'Brien (C-100003)"
    assert out["location"].startswith(f"Service location {location[0][0]} · ")
    assert out["job_type"] == "Furnace Repair"


def test_select_keeps_working_and_now_also_on_an_aria_combobox(sandbox, tmp_path):
    out = _passed(_run(FLOWS / "select_work_orders.yaml", tmp_path, sandbox))
    scheduled = [r[0] for r in _db(sandbox, "SELECT number FROM work_orders WHERE status = 'scheduled' "
                                            "ORDER BY id DESC LIMIT 25")]  # fmt: skip
    assert out["numbers"] == scheduled


def test_a_missing_option_lists_the_options_seen(sandbox, tmp_path):
    record = _run(FLOWS / "choose_work_orders.yaml", tmp_path, sandbox, status="Parked")
    assert record.status == "errored"
    assert record.error_message == (
        "'work_orders.status_filter' has no option 'Parked' (options seen: 'All statuses', 'Unscheduled', "
        "'Scheduled', 'Dispatched', 'In Progress', 'Paused', 'On Hold', 'Completed', 'Canceled')")


def test_choose_on_native_selects_radio_groups_animated_listboxes_and_menus(tmp_path):
    out = _passed(_run(FLOWS / "widgets_choose.yaml", tmp_path, page=WIDGETS))
    assert out == {"size": "Large", "plan": "Premium", "fruit": "Banana", "fruit_by_value": "Banana bread",
                   "action": "Delete forever",
                   "shown": {"size": "l", "plan": "premium", "fruit": "Banana bread", "action": "Delete forever"}}
    record = _run(_flow(tmp_path, """
        steps:
          - open: "{{ vars.page }}"
          - choose: {target: widgets.fruit, option: banana, timeout: 2}
        """), tmp_path)
    assert record.error_message == ("'widgets.fruit' has no option 'banana' (options seen: 'Apple', 'Banana', "
                                    "'Banana bread', 'Cherry')")
    record = _run(_flow(tmp_path, """
        steps:
          - open: "{{ vars.page }}"
          - choose: {target: widgets.veg, option: Leek, timeout: 2}
        """), tmp_path)
    assert record.error_message == ("the option 'Leek' of 'widgets.veg' could not be clicked within 2 s: covered by "
                                    '<div id="scrim" class="scrim" style="position: fixed; inset: 0; z-index: 10">')


# -- failure 5: keys, script, storage ---------------------------------------------------------------------------------


def test_press_takes_chords_and_key_names(tmp_path):
    out = _passed(_run(FLOWS / "widgets_keys.yaml", tmp_path, page=WIDGETS))
    assert out == {"log": "a b c ctrl+a Delete shift+Tab meta+Enter ArrowDown PageDown ctrl+shift+Z",
                   "value": "", "focused": "second"}


def test_script_and_storage_in_the_apps_page(sandbox, tmp_path):
    out = _passed(_run(FLOWS / "storage_script.yaml", tmp_path, sandbox))
    assert out == {"written": "Zoë's \"note\"", "read": "Zoë's \"note\"", "session": '{"n": 1}', "gone": None,
                   "everything": {"robots.tab": '{"n": 1}'}, "result": {"sum": 5, "title": "Sera", "tag": "x"},
                   "user": "Dana Demo"}


def test_a_script_error_quotes_the_pages_exception(tmp_path):
    record = _run(_flow(tmp_path, """
        steps:
          - open: "{{ vars.page }}"
          - script: "return document.querySelector('#nothing').value"
        """), tmp_path)
    assert record.status == "errored"
    assert record.error_message == ("script: the page's JavaScript threw TypeError: Cannot read properties of null "
                                    f"(reading 'value') on {WIDGETS}")


def test_bad_arguments_are_found_before_a_run_with_file_and_line(tmp_path):
    path = _flow(tmp_path, """
        steps:
          - press: Entr
          - press: {key: A+Control}
          - choose: {target: widgets.size}
          - storage: {key: k, set: v, remove: true}
          - storage: {area: cookies, key: k}
          - fill: {target: widgets.short, value: x, verify: maybe}
          - press: "{{ vars.page }}"
        """)
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert [str(i) for i in caught.value.issues] == [
        f"{path}:6:12: steps[0].press.key: unknown key (did you mean 'Enter'?), got 'Entr'",
        f"{path}:7:18: steps[1].press.key: only the last key of a chord can be other than Control, Shift, Alt or "
        "Meta, got 'A+Control'",
        f"{path}:8:13: steps[2].choose: give exactly one of 'option' (the visible text) or 'value'",
        f"{path}:9:14: steps[3].storage: give at most one of 'set' or 'remove'",
        f"{path}:10:21: steps[4].storage.area: input should be 'local' or 'session', got 'cookies'",
        f"{path}:11:53: steps[5].fill.verify: expected true or false, got 'maybe'",
    ]
    done = subprocess.run([str(ROBOTS), "validate", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (f"{path}:6:12: steps[0].press.key: unknown key (did you mean 'Enter'?), "
                                           "got 'Entr'")
