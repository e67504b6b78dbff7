"""The JSON Schema of the review document, built from `exports.review_json` (its tables and the models' fields),
so that the schema file cannot drift from what the writer writes and the importer reads.

Write the file after changing a table: `python manage.py shell -c "from exports.schema import build; build.write()"`
(exports/tests/test_review_json.py fails while the file differs from what this builds)."""

import json
from pathlib import Path
from typing import Any

from django.db import models

from exports.review_json import (
    AGREEMENT,
    FULL_TEXT_FILE_KEYS,
    PRIORITY,
    REVIEW_FIELDS,
    SCHEMA_VERSION,
    SETTINGS,
    TABLES,
    Single,
    Table,
    history_fields,
)
from reviews.models import Membership, Review

PATH = Path(__file__).resolve().parent / "review-1.schema.json"
USERNAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 150, "pattern": r"^[\w.@+-]+$"}
ID: dict[str, Any] = {"type": "integer", "minimum": 1}
DECIMAL_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,8})?$"
RANGES: dict[type[models.Field], tuple[int, int]] = {
    models.PositiveSmallIntegerField: (0, 32767),
    models.SmallIntegerField: (-32768, 32767),
    models.PositiveIntegerField: (0, 2147483647),
    models.IntegerField: (-2147483648, 2147483647),
    models.PositiveBigIntegerField: (0, 9223372036854775807),
}


def _nullable(schema: dict[str, Any], null: bool) -> dict[str, Any]:
    if not null:
        return schema
    if "enum" in schema:
        schema = {**schema, "enum": [*schema["enum"], None]}
    return {**schema, "type": [schema["type"], "null"]}


def field_schema(field: models.Field) -> dict[str, Any]:
    """A model field's value as the writer writes it (see review_json.plain)."""
    description = str(field.help_text) if field.help_text else None
    schema: dict[str, Any]
    if isinstance(field, models.JSONField):
        schema = {}
        return {"description": description} if description else schema
    if isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, models.DecimalField):
        schema = {"type": "string", "pattern": DECIMAL_PATTERN}
    elif isinstance(field, models.FloatField):
        schema = {"type": "number"}
    elif isinstance(field, models.IntegerField):
        low, high = next(r for kind, r in RANGES.items() if isinstance(field, kind))
        schema = {"type": "integer", "minimum": low, "maximum": high}
        if field.choices:
            schema["enum"] = [value for value, _ in field.choices]
    else:
        schema = {"type": "string"}
        if field.max_length:
            schema["maxLength"] = field.max_length
        if field.choices:
            schema["enum"] = [value for value, _ in field.choices] + ([""] if field.blank else [])
    if description:
        schema["description"] = description
    return _nullable(schema, field.null)


def _object(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _fields(model: type[models.Model], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: field_schema(model._meta.get_field(name)) for name in names}  # type: ignore[arg-type]


def _users(model: type[models.Model], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _nullable(dict(USERNAME), model._meta.get_field(name).null) for name in names}


def _single(spec: Single) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, _object(_fields(spec.model, spec.fields) | _users(spec.model, spec.users))]}


def _history(table: Table) -> dict[str, Any]:
    fields, users = history_fields(table)
    entry = _object(
        {
            "when": {"type": "string", "format": "date-time"},
            "who": _nullable(dict(USERNAME), True),
            "change": {"type": "string", "enum": ["+", "~", "-"], "description": "created, changed, deleted"},
            "values": _object(_fields(table.model, fields) | _users(table.model, users)),
        }
    )
    return {"type": "array", "items": entry}


def _table(table: Table) -> dict[str, Any]:
    properties: dict[str, Any] = {"id": ID}
    for ref in table.refs:
        properties[ref.name] = _nullable(dict(ID), table.model._meta.get_field(ref.field).null)
    properties |= _users(table.model, table.users)
    properties |= _fields(table.model, table.fields)
    for ref in table.many:
        properties[ref.name] = {"type": "array", "items": ID}
    if table.key == "full_texts":
        properties |= {
            FULL_TEXT_FILE_KEYS[0]: {"type": ["integer", "null"], "minimum": 0},
            FULL_TEXT_FILE_KEYS[1]: {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
        }
    if table.history:
        properties["history"] = _history(table)
    return {"type": "array", "items": _object(properties, table.model.__doc__ and table.model.__doc__.strip())}


def build_schema() -> dict[str, Any]:
    review = _fields(Review, REVIEW_FIELDS) | {"created_by": _nullable(dict(USERNAME), True)}
    members = _object({"username": USERNAME, "role": {"type": "string", "enum": [r.value for r in Membership.Role]}})
    properties: dict[str, Any] = {
        "schema": {"const": SCHEMA_VERSION},
        "exported_at": {"type": "string", "format": "date-time"},
        "exported_by": _nullable(dict(USERNAME), True),
        "source_review_id": ID,
        "withheld": {"type": "array", "items": {"type": "string"}},
        "review": _object({"created_by": review.pop("created_by"), **review}),
        "members": {"type": "array", "items": members},
        "settings": _object({spec.key: _single(spec) for spec in SETTINGS}),
        AGREEMENT.key: _single(AGREEMENT),
        PRIORITY.key: _single(PRIORITY),
    }
    properties |= {table.key: _table(table) for table in TABLES}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sieve.invalid/schema/review-1.schema.json",
        "title": f"A Sieve review ({SCHEMA_VERSION})",
        "description": "Written by exports/review_json.py; described in docs/export-json.md.",
        **_object(properties),
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def write() -> None:
    PATH.write_text(render(), encoding="utf-8")


def load() -> dict[str, Any]:
    return json.loads(PATH.read_text(encoding="utf-8"))
