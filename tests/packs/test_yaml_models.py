"""Record models declared in YAML (robots.packs.yaml_models): built with pydantic's create_model, they check rows
the way the Python models do; a file with mistakes is refused naming the file, line, model and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from robots.errors import ContractError, FlowError
from robots.packs.yaml_models import load_models
from robots.scrape import contracts


def models_file(tmp_path: Path, text: str, pack: str = "shop") -> Path:
    f = tmp_path / "models" / f"{pack}.yaml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(textwrap.dedent(text).lstrip())
    return f


def problems(tmp_path: Path, text: str) -> list[str]:
    f = models_file(tmp_path, text)
    with pytest.raises(FlowError) as e:
        load_models(f, "shop")
    return [str(i).removeprefix(f"{f}:") for i in e.value.issues]


ALL_TYPES = """
    item:
      fields:
        code: {type: string, required: true, pattern: "^[A-Z]{3}-\\\\d+$"}
        count: integer
        weight: number
        taxable: boolean
        listed_on: date
        modified_at: datetime
        price_cents: money
        tags: {type: list, items: string}
        sizes: {type: list, items: integer}
        kind: {enum: [service, material]}
        json: string
"""


def test_every_type_takes_what_the_normalizers_give_and_nulls_where_not_required(tmp_path):
    model = load_models(models_file(tmp_path, ALL_TYPES), "shop")["shop.item"]
    row = {"code": "PAR-118", "count": 3, "weight": 1.5, "taxable": True, "listed_on": "2025-03-14",
           "modified_at": "2025-03-14T19:05:00Z", "price_cents": 19950, "tags": ["a", "b"], "sizes": [1, 2],
           "kind": "service", "json": "a field named like a pydantic method",
           "source_url": "http://127.0.0.1/items", "scraped_at": "2025-03-14T19:05:00Z"}
    assert model.model_validate(row).model_dump(mode="json", by_alias=True) == row
    bare = model.model_validate({"code": "PAR-1"}).model_dump(mode="json", by_alias=True)
    assert bare == {**{k: None for k in row}, "code": "PAR-1"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("code", None, "field 'code' input should be a valid string (got None)"),
    ("code", "par-118", "field 'code' string should match pattern '^[A-Z]{3}-\\d+$' (got 'par-118')"),
    ("count", "three", "field 'count' input should be a valid integer, unable to parse string as an integer "
                       "(got 'three')"),
    ("listed_on", "03/14/2025", "field 'listed_on' string should match pattern '^\\d{4}-\\d\\d-\\d\\d$' "
                                "(got '03/14/2025')"),
    ("modified_at", "2025-03-14 19:05", "field 'modified_at' string should match pattern "
                                        "'^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' (got '2025-03-14 19:05')"),
    ("kind", "labour", "field 'kind' input should be 'service' or 'material' (got 'labour')"),
    ("sizes", ["S"], "field 'sizes.0' input should be a valid integer, unable to parse string as an integer "
                     "(got 'S')"),
    ("colour", "red", "field 'colour' extra inputs are not permitted (got 'red')"),
])
def test_a_row_that_does_not_fit_is_scrape_drift_naming_the_field(tmp_path, field, value, message):
    model = load_models(models_file(tmp_path, ALL_TYPES), "shop")["shop.item"]
    contracts.register_model("test_yaml.item", model)
    try:
        with pytest.raises(ContractError) as e:
            contracts.conform("test_yaml.item", [{"code": "PAR-1"}, {"code": "PAR-2", field: value}])
    finally:
        del contracts.MODELS["test_yaml.item"]
    assert str(e.value) == f"scrape drift: record 2 does not fit 'test_yaml.item': {message}"


def test_a_file_with_mistakes_names_file_line_model_and_field_for_each(tmp_path):
    assert problems(tmp_path, """
        order:
          fields:
            total: mony
            status: {type: string, enum: open}
            placed: {type: date, pattern: "^x$"}
            qty: {type: integer, enum: [1, two]}
            lines: {type: list, items: row}
            id: {type: string, requird: true}
            code: {pattern: "(unclosed"}
            2nd: string
        Bad-Name: {fields: {a: string}}
        empty: {}
    """) == [
        "3:12: order.fields.total.type: unknown type 'mony' (did you mean 'money'?); types: string, integer, number, "
        "boolean, date, datetime, money, list",
        "4:34: order.fields.status.enum: expected a list of the values the field may take, got 'open'",
        "5:26: order.fields.placed.pattern: `pattern` is for text (type string), not date",
        "6:36: order.fields.qty.enum.1: 'two' is not of type integer",
        "7:32: order.fields.lines.items: unknown item type 'row'; a list holds one of string, integer, number, "
        "boolean, date, datetime, money",
        "8:24: order.fields.id.requird: unknown key 'requird' (did you mean 'required'?); a field has type, "
        "required, enum, pattern, items, description",
        "9:21: order.fields.code.pattern: not a valid regular expression (missing ), unterminated subpattern at "
        "position 0)",
        "10:5: order.fields.2nd: '2nd' is not a valid field name: use letters, digits and '_', not starting with a "
        "digit",
        "11:1: Bad-Name: 'Bad-Name' is not a valid model name: use lower-case letters, digits and '_'",
        "12:8: empty: a model is a mapping with `fields:` (field name -> type or {type, required, enum, pattern, "
        "items})",
    ]


def test_a_file_that_is_not_a_mapping_of_models_is_refused(tmp_path):
    assert problems(tmp_path, "- order\n") == [
        "1:1: a record model file is a mapping of model names to {fields: {...}}"]
    assert problems(tmp_path, "order: {fields: [a, b]}\n") == [
        "1:8: order: a model is a mapping with `fields:` (field name -> type or {type, required, enum, pattern, "
        "items})"]
