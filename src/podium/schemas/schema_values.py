"""Validation of hydrated values against a JSON schema, for `/ui/schemas/validate`.

Schemas come from Prefect clients, which generate them with pydantic, so
`prepare_schema` first adjusts the forms that Draft 2020-12 reads
differently. Errors come back as a tree that follows the value's shape.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import jsonschema
import referencing
import referencing.exceptions

from podium.schemas.hydration import HydrationProblem, Placeholder

Validator = jsonschema.Draft202012Validator

# A block document may stand in for a block-typed field as a reference
# object: `{"$ref": "<block document id>"}` or `{"$ref": {...}}`.
_BLOCK_REFERENCE = {
    "type": "object",
    "properties": {
        "$ref": {
            "oneOf": [
                {"type": "string", "format": "uuid"},
                {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "minProperties": 1,
                },
            ]
        }
    },
    "required": ["$ref"],
}


class SchemaProblem(Exception):
    """The schema itself is invalid or cannot be used to validate."""


def prepare_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `schema` adjusted for Draft 2020-12 validation.

    An optional property without a default also accepts null, a list under
    `items` becomes `prefixItems`, and a block type in `definitions` also
    accepts a block document reference.
    """
    schema = copy.deepcopy(schema)
    _prepare_properties(schema)
    definitions = schema.get("definitions")
    if isinstance(definitions, dict):
        for name, definition in list(definitions.items()):
            if not isinstance(definition, dict):
                continue
            _prepare_properties(definition)
            if "block_type_slug" in definition:
                title = definition.get("title", name)
                definitions[title] = {"oneOf": [definition, _BLOCK_REFERENCE]}
    return schema


def _prepare_properties(schema: dict[str, Any]) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    required = schema.get("required") or []
    for key, field in properties.items():
        if not isinstance(field, dict):
            continue
        field_type = field.get("type")
        optional = key not in required and "default" not in field
        if optional and field_type not in (None, "null"):
            field["anyOf"] = [{"type": field_type}, {"type": "null"}]
            del field["type"]
        if isinstance(field.get("items"), list) and not field.get("prefixItems"):
            field["prefixItems"] = field.pop("items")
        _prepare_properties(field)


def check_schema(schema: dict[str, Any]) -> None:
    """Raise SchemaProblem unless `schema` is a valid Draft 2020-12 schema."""
    try:
        Validator.check_schema(schema, format_checker=Validator.FORMAT_CHECKER)
    except jsonschema.SchemaError as error:
        raise SchemaProblem(f"Invalid schema: {error.message}") from error


def validate_values(values: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Validate hydrated `values`, returning `{"errors": [...], "valid": bool}`.

    Raises SchemaProblem when a `$ref` cannot be resolved or the references
    form a cycle. Remote references are never fetched.
    """
    validator = Validator(
        schema,
        format_checker=Validator.FORMAT_CHECKER,
        registry=referencing.Registry(),
    )
    try:
        errors = list(validator.iter_errors(values))
    except RecursionError as error:
        raise SchemaProblem(
            "Invalid schema: Unable to validate schema with circular references."
        ) from error
    except referencing.exceptions.Unresolvable as error:
        raise SchemaProblem(f"Validation failed. Failure reason: {error}") from error

    messages = [
        (list(error.relative_path) + _required_property(error), error.message)
        for error in errors
        # A placeholder is not checked against the schema: a problem is
        # reported on its own below, and a deferred template renders later.
        if not isinstance(error.instance, Placeholder)
    ]
    # NOTE: problems are reported at any path, also under keys the schema does
    # not describe. Prefect 3.9.1 reports them only where a subschema applies.
    messages += _problems(values, [])
    tree = _error_tree(messages)
    return {"errors": tree, "valid": not tree}


def _required_property(error: jsonschema.ValidationError) -> list[Any]:
    # Report a missing property on the property itself, not on its parent.
    if error.validator != "required":
        return []
    names = [n for n in error.validator_value if error.message.startswith(repr(n))]
    return names[:1]


def _problems(value: Any, path: list[Any]) -> list[tuple[list[Any], str]]:
    if isinstance(value, HydrationProblem):
        return [(path, value.message)]
    found: list[tuple[list[Any], str]] = []
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found += _problems(item, [*path, key])
    return found


def _error_tree(messages: list[tuple[list[Any], str]]) -> list[Any]:
    """Nest messages as `{"property": ..., "errors": [...]}` and `{"index": ...}`."""
    root: list[Any] = []
    for path, message in messages:
        level = root
        for part in path:
            key = "index" if isinstance(part, int) else "property"
            entry = next(
                (e for e in level if isinstance(e, dict) and e.get(key) == part), None
            )
            if entry is None:
                entry = {key: part, "errors": []}
                level.append(entry)
            level = entry["errors"]
        level.append(message)
    return root
