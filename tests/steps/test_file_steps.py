"""The file steps run without a browser: `checksum` gives a local file's size and SHA-256, `read_csv` reads a CSV
file through a field map into records checked against their model."""

from __future__ import annotations

import hashlib
from pathlib import Path

from robots import load_flow
from robots.engine import Runner
from robots.records import MemoryStore

FLOW = """
name: files
vars:
  file: {required: true}
outputs: [local, rows]
steps:
  - checksum: {id: local, file: "{{ vars.file }}"}
  - read_csv:
      id: rows
      file: "{{ vars.file }}"
      source_url: https://acme.sera.tech/customers/export
      record: sera.customer
      fields:
        id: {column: Customer ID}
        name: {column: Name}
        balance_cents: {column: Balance, type: money}
  - set_output: {local: "{{ steps.local.output }}", rows: "{{ steps.rows.output }}"}
"""


def run(tmp_path: Path, file: Path):  # noqa: ANN201 - a RunRecord
    flow = tmp_path / "files.yaml"
    flow.write_text(FLOW)
    return Runner(store=MemoryStore(), home=tmp_path / "home", trigger="test").run(load_flow(flow),
                                                                                   vars={"file": str(file)})


def test_checksum_and_read_csv_need_no_browser(tmp_path: Path) -> None:
    export = tmp_path / "customers.csv"
    export.write_bytes("\ufeffName,Balance,Customer ID\r\nZoë Ångström,\"$1,234.50\",1003\r\n".encode())
    record = run(tmp_path, export)
    assert record.status == "passed", record.error_message
    assert record.browser is None  # no browser was started
    assert record.outputs["local"] == {"path": str(export), "name": "customers.csv", "size": export.stat().st_size,
                                       "sha256": hashlib.sha256(export.read_bytes()).hexdigest()}  # fmt: skip
    [row] = record.outputs["rows"]
    assert (row["id"], row["name"], row["balance_cents"], row["source_url"]) == (
        "1003", "Zoë Ångström", 123450, "https://acme.sera.tech/customers/export")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    record = run(tmp_path, tmp_path / "nowhere.csv")
    assert (record.status, record.error_class) == ("errored", "InputError")
    assert record.error_message == f"checksum: no such file '{tmp_path / 'nowhere.csv'}'"
