"""Tests of the placeholders resolved in deployment run parameters."""

from __future__ import annotations

import pytest

from podium.orchestration.hydration import HydrationError, hydrate, variable_names


def test_plain_parameters_unchanged() -> None:
    parameters = {"a": 1, "b": [1, {"c": None}], "d": "text"}

    assert hydrate(parameters, {}) == parameters


def test_json_placeholder_decodes_text() -> None:
    parameters = {"x": {"__prefect_kind": "json", "value": '{"k": [1, 2]}'}}

    assert hydrate(parameters, {}) == {"x": {"k": [1, 2]}}


def test_json_placeholder_keeps_non_text_value() -> None:
    parameters = {"x": {"__prefect_kind": "json", "value": 5}}

    assert hydrate(parameters, {}) == {"x": 5}


def test_json_placeholder_without_value_dropped() -> None:
    parameters = {
        "x": {"__prefect_kind": "json"},
        "y": [1, {"__prefect_kind": "json"}],
    }

    assert hydrate(parameters, {}) == {"y": [1]}


def test_invalid_json_raises() -> None:
    with pytest.raises(HydrationError, match="invalid JSON"):
        hydrate({"x": {"__prefect_kind": "json", "value": "{nope"}}, {})


def test_workspace_variable_replaced_by_value() -> None:
    parameters = {
        "x": {"__prefect_kind": "workspace_variable", "variable_name": "region"}
    }

    assert variable_names(parameters) == {"region"}
    assert hydrate(parameters, {"region": "eu-west"}) == {"x": "eu-west"}


def test_missing_workspace_variable_raises() -> None:
    parameters = {
        "x": {"__prefect_kind": "workspace_variable", "variable_name": "gone"}
    }

    with pytest.raises(HydrationError, match="'gone' not found"):
        hydrate(parameters, {})


def test_none_placeholder_resolves_its_value() -> None:
    inner = {"__prefect_kind": "json", "value": "[1]"}
    parameters = {"x": {"__prefect_kind": "none", "value": {"y": inner}}}

    assert hydrate(parameters, {}) == {"x": {"y": [1]}}


def test_unknown_kind_takes_value() -> None:
    parameters = {"x": {"__prefect_kind": "something-new", "value": 3}}

    assert hydrate(parameters, {}) == {"x": 3}


def test_jinja_placeholder_raises() -> None:
    with pytest.raises(HydrationError, match="jinja"):
        hydrate({"x": {"__prefect_kind": "jinja", "template": "{{ 1 }}"}}, {})


def test_whole_parameters_dropped_to_empty() -> None:
    assert hydrate({"__prefect_kind": "json"}, {}) == {}  # type: ignore[arg-type]
