"""Hydration: replacing `__prefect_kind` placeholder objects in values.

The Prefect UI sends parameter and job variable values in which an object
such as `{"__prefect_kind": "json", "value": "[1, 2]"}` represents a value
still to compute. `hydrate` walks a value and replaces each such object:

- `none`: the hydrated `value`.
- `json`: `value` parsed as JSON (a non-string `value` is kept as is).
- `jinja`: `template`, kept as a `DeferredTemplate` because templates render
  later, when a run starts.
- `workspace_variable`: the value of the variable named `variable_name`.
- any other kind: its `value`, or None.

A `json` or `workspace_variable` object without its key is dropped from the
enclosing object or list. Other problems become a `HydrationProblem` in
place of the value, so validation can report them at their path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

KIND_KEY = "__prefect_kind"


class Placeholder:
    """A value that hydration could not produce yet."""


class DeferredTemplate(Placeholder):
    def __init__(self, template: Any) -> None:
        self.template = template


class HydrationProblem(Placeholder):
    """A placeholder object that could not be hydrated, with the reason."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"HydrationProblem({self.message!r})"


class _Dropped(Placeholder):
    """An object to leave out of its enclosing object or list."""


_DROPPED = _Dropped()


def hydrate(values: dict[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
    """Return `values` with every placeholder object replaced.

    `variables` maps workspace variable names to their values.
    """
    result = _hydrate(values, variables)
    return {} if result is _DROPPED else result  # type: ignore[no-any-return]


def _hydrate(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if KIND_KEY in value:
            kind = value[KIND_KEY]
            handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
            if handler is None:
                return value.get("value")
            return handler(value, variables)
        hydrated = {key: _hydrate(item, variables) for key, item in value.items()}
        return {key: item for key, item in hydrated.items() if item is not _DROPPED}
    if isinstance(value, list):
        items = [_hydrate(item, variables) for item in value]
        return [item for item in items if item is not _DROPPED]
    return value


def _missing_key(key: str) -> HydrationProblem:
    return HydrationProblem(f"Missing '{key}' key in __prefect object")


def _inner(value: Any, variables: Mapping[str, Any]) -> Any:
    # A key's own value may be a placeholder object; other values stay as sent.
    return _hydrate(value, variables) if isinstance(value, dict) else value


def _hydrate_none(obj: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    if "value" not in obj:
        return _missing_key("value")
    return _hydrate(obj["value"], variables)


def _hydrate_json(obj: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    if "value" not in obj:
        return _DROPPED
    value = _inner(obj["value"], variables)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        return HydrationProblem(f"Invalid JSON: {error}")


def _hydrate_jinja(obj: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    if "template" not in obj:
        return _missing_key("template")
    template = _inner(obj["template"], variables)
    if isinstance(template, Placeholder):
        return template
    # NOTE: Podium has no Jinja engine, so template syntax is not checked here,
    # where Prefect 3.9.1 reports a syntax error as "Invalid jinja".
    return DeferredTemplate(template)


def _hydrate_variable(obj: dict[str, Any], variables: Mapping[str, Any]) -> Any:
    if "variable_name" not in obj:
        return _DROPPED
    name = _inner(obj["variable_name"], variables)
    if isinstance(name, Placeholder):
        return name
    if not isinstance(name, str) or name not in variables:
        return HydrationProblem(f"Variable '{name}' not found in workspace.")
    return variables[name]


_HANDLERS: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], Any]] = {
    "none": _hydrate_none,
    "json": _hydrate_json,
    "jinja": _hydrate_jinja,
    "workspace_variable": _hydrate_variable,
}
