"""Then steps about a run's outputs; Given/Then steps for list vars, vars from outputs, secrets, timestamps and
leaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robots.packs.sera.bdd.runs import _status_line
from robots.packs.sera.bdd.world import World, _compare, _get, _items, _step, _text

# -- Then: outputs -----------------------------------------------------------------------------------------


@_step("then", "the output has {count:d} {name}", "Then the output has 2500 customers")
def _output_count(robots_bdd: World, count: int, name: str) -> None:
    """The length of a list output (`customers`, `work_orders`, ...)."""
    items = robots_bdd.output(name)
    assert len(items) == count, f"expected {count} {name}, the output has {len(items)}"


@_step("then", "the run either errored with the failing page as evidence or returned all {count:d} {name}",
       "Then the run either errored with the failing page as evidence or returned all 896 customers")
def _never_short(robots_bdd: World, count: int, name: str) -> None:
    """A walk that met error pages is never silently short: it ended errored with a screenshot of the page it
    failed on, or (a page read again by opening it answered) it passed with the whole list, no record twice."""
    record = robots_bdd.record
    assert record is not None, "no flow was run"
    if record.status == "passed":
        items = robots_bdd.output(name)
        ids = _ids(items, name)
        assert (len(items), len(set(ids))) == (count, count), \
            f"expected {count} distinct {name}, the output has {len(items)} ({len(set(ids))} distinct)"
        return
    assert record.status == "errored", f"the run {record.status}: {record.error_message}"
    assert [e for e in record.evidence if e.screenshot], "no screenshot of the failing page"


@_step("then", "the output has as many customers as the portal holds",
       "Then the output has as many customers as the portal holds")
def _as_many(robots_bdd: World) -> None:
    """The customer count the sandbox reports for the tenant (`/_sandbox/stats`)."""
    holds = robots_bdd.control("GET", f"stats?tenant={robots_bdd.tenant}")["customers"]
    got = len(robots_bdd.output("customers"))
    assert got == holds, f"expected {holds} customers (as many as the portal holds), the output has {got}"


@_step("then", "no {item} appears twice", "Then no customer appears twice")
def _no_duplicates(robots_bdd: World, item: str) -> None:
    """No two records of the list output share an `id` (every record must have one)."""
    ids = _ids(_items(robots_bdd, item), item + "s")
    dupes = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    assert not dupes, f"expected no {item} twice, but these ids are listed more than once: {dupes[:10]}"


def _ids(records: list[Any], what: str) -> list[Any]:
    """The `id` of every record; a record without one is an assertion naming how many and what they have."""
    missing = [r for r in records if not isinstance(r, dict) or r.get("id") is None]
    if missing:
        first = missing[0]
        has = ", ".join(first) if isinstance(first, dict) and first else "no fields"
        raise AssertionError(f'expected every one of the {what} to have an "id" to tell them apart, but '
                             f"{len(missing)} of {len(records)} have none (the first has: {has})")
    return [r["id"] for r in records]


@_step("then", "every {item} has a {what} in cents", "Then every customer has a balance in cents")
def _in_cents(robots_bdd: World, item: str, what: str) -> None:
    """The field `<what>_cents` is a whole number in every record."""
    name = what.replace(" ", "_") + "_cents"
    bad = [r.get("id") for r in _items(robots_bdd, item) if type(r.get(name)) is not int]
    assert not bad, f"{len(bad)} {item}s without an integer {name}, e.g. {bad[:5]}"


@_step("then", 'every {item} has a "{field}" from "{values}"',
       'Then every customer has a "status" from "active, inactive, on_hold"')
def _closed_list(robots_bdd: World, item: str, field: str, values: str) -> None:
    """The field holds one of a comma-separated closed list in every record."""
    allowed = {v.strip() for v in values.split(",")}
    bad = sorted({str(_get(r, field)) for r in _items(robots_bdd, item)} - allowed)
    assert not bad, f"{field} values outside the list: {bad}"


@_step("then", 'every {item} has a "{field}"', 'Then every customer has a "source_url"')
def _has_field(robots_bdd: World, item: str, field: str) -> None:
    """The field (dotted for nested ones: `address.city`) is not null in any record."""
    bad = [r.get("id") for r in _items(robots_bdd, item) if _get(r, field) is None]
    assert not bad, f"{len(bad)} {item}s without {field}, e.g. {bad[:5]}"


@_step("then", 'every {item} in the {name} output has a "{field}"',
       'Then every assignment in the work_order output has a "completed_at"')
def _nested_has_field(robots_bdd: World, item: str, name: str, field: str) -> None:
    """The same for a list inside a record (`assignments`, `line_items`, ...); the list must not be empty."""
    records = robots_bdd.output(name)
    key = next((k for k in (item + "s", item) if isinstance(_get(records, k), list)), None)
    if key is None:
        raise AssertionError(f"the {name} output has no list of {item}s")
    items = _get(records, key)
    assert items, f"the {name} output's {key} is empty"
    bad = [i for i, r in enumerate(items) if _get(r, field) is None]
    assert not bad, f"{key} {bad} have no {field}"


@_step("then", 'every {item} matches "{field}" = "{value}"', 'Then every customer matches "type" = "commercial"')
def _every_equals(robots_bdd: World, item: str, field: str, value: str) -> None:
    """Every record's field, as text, equals the value (a filter's effect)."""
    bad = [r.get("id") for r in _items(robots_bdd, item) if _text(_get(r, field)) != value]
    assert not bad, f"{len(bad)} {item}s whose {field} is not {value!r}, e.g. {bad[:5]}"


@_step("then", 'the {name} output includes:', "Then the customers output includes:\n"
       "  | id   | name         |\n  | 1003 | Smith Heating |")
def _includes(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Subset, any order: each table row matches some record on the table's columns."""
    _compare(robots_bdd.output(name), datatable, exact=False, ordered=False)


@_step("then", 'the {name} output includes, in order:', "Then the customers output includes, in order:\n"
       "  | number  |\n  | C-10001 |\n  | C-10002 |")
def _includes_ordered(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Subset, order-aware: the rows match records in this order (others may come between)."""
    _compare(robots_bdd.output(name), datatable, exact=False, ordered=True)


@_step("then", 'the {name} output is exactly:', "Then the customers output is exactly:\n"
       "  | id   | city   |\n  | 1003 | Austin |")
def _exactly(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Exact, order-aware: the records, in order, are the table's rows (on the table's columns)."""
    _compare(robots_bdd.output(name), datatable, exact=True, ordered=True)


@_step("then", 'the {name} output is exactly, in any order:', "Then the customers output is exactly, in any order:\n"
       "  | id   |\n  | 1004 |\n  | 1003 |")
def _exactly_any_order(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Exact, any order: the same rows as the records, as a multiset."""
    _compare(robots_bdd.output(name), datatable, exact=True, ordered=False)


@_step("then", 'the {name} output has "{field}" = "{value}"', 'Then the customer output has "address.city" = "Austin"')
def _field_equals(robots_bdd: World, name: str, field: str, value: str) -> None:
    """One field of a mapping output (dotted for nested: `locations.0.address.city`), as text."""
    got = _get(robots_bdd.output(name), field)
    assert _text(got) == value, f'expected {name}.{field} = "{value}", got {got!r}'


@_step("then", 'the output "{name}" is "{value}"', 'Then the output "voided_now" is "true"')
def _output_is(robots_bdd: World, name: str, value: str) -> None:
    """A scalar output, as text (true/false for flags, empty for null)."""
    got = robots_bdd.output(name)
    assert _text(got) == value, f'expected {name} = "{value}", got {got!r}'


@_step("then", '"{target}" shows "{text}"', 'Then "customers.summary" shows "Showing 1–50 of 2,500 customers"')
def _element_shows(robots_bdd: World, target: str, text: str) -> None:
    """Page steps: the element's text is exactly this (read after the page steps ran)."""
    got = _element(robots_bdd, target)
    assert got == text, f'expected {target} to show "{text}", it shows {got!r}'


@_step("then", '"{target}" contains "{text}"', 'Then "customers.summary" contains "customers"')
def _element_contains(robots_bdd: World, target: str, text: str) -> None:
    """Page steps: the element's text contains this."""
    got = _element(robots_bdd, target)
    assert text in got, f'expected {target} to contain "{text}", it reads {got!r}'


def _element(world: World, target: str) -> str:
    record = world.last()
    assert record.status == "passed", _status_line(record)
    return str(record.outputs[world.reads[target]])


# -- Given/Then: list vars, vars from outputs, secrets, timestamps, leaks ------------------------------------


@_step("given", 'the flow var "{name}" is the list:', 'Given the flow var "lines" is the list:\n'
       "  | code    | quantity | price  |\n  | DIA-100 | 1        |        |\n  | PAR-118 | 2        | 199.50 |")
def _list_var(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """A var that is a list of mappings (create_work_order's `lines`): the header names the keys, one row per
    item; an empty cell leaves that key out of its item."""
    header, rows = datatable[0], datatable[1:]
    robots_bdd.vars[name] = [{k: v for k, v in zip(header, row, strict=True) if v != ""} for row in rows]


@_step("given", 'the flow var "{name}" is the {output} output\'s "{field}"',
       'Given the flow var "id" is the membership output\'s "id"')
def _var_from_output(robots_bdd: World, name: str, output: str, field: str) -> None:
    """A var for later runs taken from the last run's output (a dotted field: `work_order.id`), so that a
    scenario can renew what it created."""
    value = _get(robots_bdd.output(output), field)
    if value is None:
        raise AssertionError(f"the {output} output has no '{field}'")
    robots_bdd.vars[name] = value


@_step("given", 'the secret "{name}" is "{value}"', 'Given the secret "sera_payment_method" is "pm_W2secretTok9Qx7"')
def _secret_value(robots_bdd: World, name: str, value: str) -> None:
    """A secret for later runs besides the account's (a payment method token): masked like every secret."""
    robots_bdd.secrets[name] = value


@_step("then", 'the {name} output\'s "{field}" is a time during the run',
       'Then the assignment output\'s "assigned_at" is a time during the run')
def _time_during_run(robots_bdd: World, name: str, field: str) -> None:
    """A timestamp the portal wrote during the last run: between the sandbox clock's minute before the run and
    its minute after it (the moved clock, not the wall clock)."""
    got = _get(robots_bdd.output(name), field)
    start, end = robots_bdd.clock_span
    if not start:
        raise AssertionError("this step needs the sandbox portal's clock")
    assert isinstance(got, str) and start <= got <= end, f"{name}.{field} is {got!r}; the run went from {start} " \
                                                         f"to {end} by the portal's clock"


@_step("then", '"{text}" appears in no output, record or file of the runs',
       'Then "pm_W2secretTok9Qx7" appears in no output, record or file of the runs')
def _nowhere(robots_bdd: World, text: str) -> None:
    """A secret leaked nowhere: not in any output of the scenario's runs, not in the run database, not in any
    file of their run folders (logs, reports, screenshots' sidecars), in any of its encodings."""
    from robots.masking import encodings

    forms = encodings(text)
    places: list[tuple[str, str]] = [(f"outputs of {r.run_id}", json.dumps(r.outputs, default=str))
                                     for r in robots_bdd.records]
    files = [robots_bdd.home / n for n in ("robots.db", "robots.db-wal")]
    files += [p for r in robots_bdd.records if r.run_dir for p in Path(r.run_dir).rglob("*")]
    places += [(str(p), p.read_bytes().decode("utf-8", "replace")) for p in files if p.is_file()]
    leaks = sorted({where for where, content in places for form in forms if form in content})
    assert not leaks, f"found in: {', '.join(leaks)}"


@_step("then", 'the {name} output\'s "{field}" are exactly:',
       "Then the work_order output's \"line_items\" are exactly:\n"
       "  | code    | quantity | unit_price_cents |\n  | DIA-100 | 1.0      | 20099            |")
def _nested_exactly(robots_bdd: World, name: str, field: str, datatable: list[list[str]]) -> None:
    """Exact, order-aware, on a list inside an output (a work order's `line_items`, `assignments`): the records,
    in order, are the table's rows (on the table's columns)."""
    _compare(_get(robots_bdd.output(name), field) or [], datatable, exact=True, ordered=True)


@_step("then", 'the {name} output has no "{field}"', 'Then the previous output has no "next_billing_date"')
def _output_lacks(robots_bdd: World, name: str, field: str) -> None:
    """A field of a mapping output is null, empty or missing (dotted: `billing.next_charge`)."""
    got = _get(robots_bdd.output(name), field)
    assert got in (None, "", []), f"expected no {name}.{field}, got {got!r}"


__all__ = [name for name in list(globals()) if name.startswith("pytestbdd_")]
