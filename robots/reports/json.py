"""The JSON report: the run record itself, indented, UTF-8; `RunRecord.model_validate_json` reads it back."""

from __future__ import annotations

import os

from robots.records.model import RunRecord
from robots.reports._files import write_atomically


def write_json(record: RunRecord, path: str | os.PathLike[str]) -> None:
    write_atomically(path, record.model_dump_json(indent=2).encode("utf-8") + b"\n")
