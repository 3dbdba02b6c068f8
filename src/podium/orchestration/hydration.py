"""Resolve the placeholders that the Prefect UI puts in run parameters.

The UI's parameter form sends some values as objects tagged with
`__prefect_kind` instead of plain JSON, and the server replaces them when it
creates a deployment's run or stores a deployment's parameters:

- `{"__prefect_kind": "json", "value": "<text>"}` becomes the decoded JSON;
  a `value` that is not text is taken as it is.
- `{"__prefect_kind": "workspace_variable", "variable_name": "x"}` becomes
  the value of the variable named `x`.
- `{"__prefect_kind": "none", "value": ...}` becomes `value`, itself resolved.
- A `json` or `workspace_variable` object without its value key is dropped
  from the list or object that contains it, as Prefect's server does.
- Any other kind becomes its `value`, or None.

Jinja templates (`"jinja"`) are not rendered: Podium returns 400 for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

KIND_KEY = "__prefect_kind"


class HydrationError(ValueError):
    """A placeholder that cannot be resolved. The message names it and the reason."""


class _Drop:
    """The marker for a placeholder that is removed from its container."""


_DROP = _Drop()


def variable_names(value: Any) -> set[str]:
    """Return the names of the workspace variables that `value` refers to."""
    names: set[str] = set()
    _collect_names(value, names)
    return names


def _collect_names(value: Any, names: set[str]) -> None:
    if isinstance(value, dict):
        if value.get(KIND_KEY) == "workspace_variable":
            name = value.get("variable_name")
            if isinstance(name, str):
                names.add(name)
        for item in value.values():
            _collect_names(item, names)
    elif isinstance(value, list):
        for item in value:
            _collect_names(item, names)


def hydrate(parameters: dict[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
    """Return `parameters` with every placeholder resolved.

    `variables` maps variable names to values and must contain every name that
    `variable_names` returns for these parameters, or the missing ones
    raise. Raises HydrationError for a placeholder that cannot be resolved.
    """
    result = _resolve(parameters, variables)
    if isinstance(result, _Drop):
        return {}
    return result  # type: ignore[no-any-return]


def _resolve(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if KIND_KEY in value:
            return _placeholder(value, variables)
        resolved = {key: _resolve(item, variables) for key, item in value.items()}
        return {k: v for k, v in resolved.items() if not isinstance(v, _Drop)}
    if isinstance(value, list):
        items = [_resolve(item, variables) for item in value]
        return [item for item in items if not isinstance(item, _Drop)]
    return value


def _placeholder(value: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    kind = value[KIND_KEY]
    if kind == "none":
        if "value" not in value:
            raise HydrationError("a 'none' placeholder has no 'value' key.")
        return _resolve(value["value"], variables)
    if kind == "json":
        return _json_value(value, variables)
    if kind == "workspace_variable":
        return _variable_value(value, variables)
    if kind == "jinja":
        raise HydrationError(
            "jinja templates in parameters are not supported by this server; "
            "send the rendered value instead."
        )
    return value.get("value")


def _json_value(value: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    if "value" not in value:
        return _DROP
    text = value["value"]
    if isinstance(text, dict):
        text = _resolve(text, variables)
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HydrationError(
            f"a 'json' placeholder contains invalid JSON: {error}"
        ) from None


def _variable_value(value: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    if "variable_name" not in value:
        return _DROP
    name = value["variable_name"]
    if isinstance(name, dict):
        name = _resolve(name, variables)
    if not isinstance(name, str) or name not in variables:
        raise HydrationError(f"variable {name!r} not found.")
    return variables[name]
