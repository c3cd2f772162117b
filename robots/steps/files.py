"""Files the robot holds (a download in the run's folder, a file it uploads): their checksums, and a CSV
export read into normalized records."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from robots.errors import InputError
from robots.scrape import contracts
from robots.scrape.csv_files import parse_csv
from robots.scrape.tables import FieldSpec
from robots.steps.base import StepArgs, step
from robots.steps.extract import _known_record, rows_shape
from robots.steps.shapes import NUMBER, TEXT, Shape, ShapeSource, list_of, record

if TYPE_CHECKING:
    from robots.steps.context import StepContext


class ReadCsvArgs(StepArgs):
    example: ClassVar[str | None] = (
        "- read_csv:\n    id: rows\n    file: \"{{ steps.export.output.path }}\"\n    record: sera.customer\n"
        "    fields:\n      number: {column: \"Customer #\"}\n      balance_cents: {column: Balance, type: money}")
    file: str = Field(description="the CSV file: a download's `path`, relative to the working folder or absolute")
    fields: dict[str, FieldSpec] = Field(description="output field -> {column, type, ...} as in extract_table "
                                                     "(columns by header text)")
    record: str | None = None
    source_url: str | None = Field(None, description="every row's source_url (e.g. the download's url); default: "
                                                     "the browser's current page")
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = Field("utf-8", description="the file's encoding (a leading byte-order mark is dropped)")

    @field_validator("record")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return _known_record(v)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return list_of(rows_shape(shapes, self.record, self.fields))


@step("read_csv")
def read_csv(ctx: StepContext, args: ReadCsvArgs) -> list[dict[str, Any]]:
    """Read a CSV file (e.g. a portal's export saved by `download`) into dicts through a field map normalized
    like extract_table's; with `record`, every row must fit that model. Every row gets `source_url` and
    `scraped_at`. Output: the list of rows."""
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise InputError(f"read_csv: no such file {args.file!r}")
    try:
        text = path.read_text(encoding=args.encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise InputError(f"read_csv: {args.file!r} is not {args.encoding} text: {e}") from None
    source = args.source_url or ctx.browser.url
    extra = {"source_url": source, "scraped_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    rows = parse_csv(text, args.fields, tz=ctx.time_zone, base_url=source, delimiter=args.delimiter, extra=extra)
    if args.record:
        rows = contracts.conform(args.record, rows)
    ctx.count(rows=len(rows))
    return rows


class ChecksumArgs(StepArgs):
    primary: ClassVar[str | None] = "file"
    file: str = Field(description="path of a local file, relative to the working folder or absolute")

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return record({"path": TEXT, "name": TEXT, "size": NUMBER, "sha256": TEXT}, "a checksum")


@step("checksum")
def checksum(ctx: StepContext, args: ChecksumArgs) -> dict[str, Any]:
    """The size and SHA-256 of a local file (e.g. one to upload: a probe can look for it, and `download` can check
    the portal's copy against it). Output: {path, name, size, sha256}."""
    path = Path(args.file).expanduser().resolve()
    if not path.is_file():
        raise InputError(f"checksum: no such file {args.file!r}")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(path), "name": path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()}
