"""Pure helpers for block schema checksums, secret fields and references.

A block schema's `secret_fields` lists dotted paths into a document's data,
such as `value` or `credentials.password`. A `*` segment stands for every
key at that level and below. Values at those paths are returned as
`SECRET_MASK` unless the caller asks for secrets.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any
from uuid import UUID

from podium.errors import InvalidRequest

SECRET_MASK = "********"


def _without_key(node: Any, key: str) -> Any:
    if not isinstance(node, dict):
        return node
    return {
        name: _without_key(value, key) for name, value in node.items() if name != key
    }


def _referenced_definitions(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value.removeprefix("#/definitions/"))
            else:
                found.extend(_referenced_definitions(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_referenced_definitions(item))
    return found


def _non_block_definitions(node: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """Collect the definitions reachable from `node` that are not blocks."""
    collected: dict[str, Any] = {}
    for name in _referenced_definitions(node):
        definition = definitions.get(name)
        if definition and definition.get("block_type_slug") is None:
            collected[name] = definition
            collected.update(_non_block_definitions(definition, definitions))
    return collected


def schema_checksum(fields: dict[str, Any]) -> str:
    """Compute a block schema's checksum the way the Prefect 3.9.1 SDK does.

    The SDK hashes the fields without any `secret_fields` key and without
    definitions of nested blocks, as sorted JSON of `[[fields], {}]`. Clients
    look schemas up by this checksum, so it must match theirs byte for byte.
    """
    hashed = _without_key(fields, "secret_fields")
    if hashed.get("definitions"):
        kept = _non_block_definitions(hashed, hashed["definitions"])
        if kept:
            hashed["definitions"] = kept
        else:
            hashed.pop("definitions")
    encoded = json.dumps([[hashed], {}], sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def _mask_all(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _mask_all(value) for key, value in node.items()}
    return SECRET_MASK


def _mask_path(node: Any, path: list[str]) -> None:
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for key, value in node.items():
            node[key] = _mask_all(value)
        return
    if head not in node or node[head] is None:
        return
    if rest:
        _mask_path(node[head], rest)
    else:
        node[head] = SECRET_MASK


def mask_secrets(data: dict[str, Any], secret_fields: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with every value at a secret path masked."""
    masked = copy.deepcopy(data)
    for field in secret_fields:
        _mask_path(masked, field.split("."))
    return masked


def _lookup(node: Any, path: list[str]) -> Any:
    for segment in path:
        if not isinstance(node, dict) or segment not in node:
            return None
        node = node[segment]
    return node


def _restore_masked(new: Any, current: Any) -> Any:
    """Replace masked leaves in `new` with the value at the same place in `current`."""
    if new == SECRET_MASK:
        return current
    if isinstance(new, dict) and isinstance(current, dict):
        return {
            key: _restore_masked(value, current.get(key)) if key in current else value
            for key, value in new.items()
        }
    return new


def keep_masked_secrets(
    new: dict[str, Any], current: dict[str, Any], secret_fields: list[str]
) -> dict[str, Any]:
    """Keep current secrets where an update sends the mask back unchanged.

    A client that reads a document without secrets and writes it back would
    otherwise replace each secret with the mask itself.
    """
    restored = copy.deepcopy(new)
    for field in secret_fields:
        path = field.split(".")
        prefix = path[: path.index("*")] if "*" in path else path
        if not prefix:
            return _restore_masked(restored, current)
        parent = _lookup(restored, prefix[:-1])
        if isinstance(parent, dict) and prefix[-1] in parent:
            parent[prefix[-1]] = _restore_masked(
                parent[prefix[-1]], _lookup(current, prefix)
            )
    return restored


def split_references(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, UUID]]:
    """Separate `{"$ref": {"block_document_id": ...}}` fields from plain data."""
    plain: dict[str, Any] = {}
    references: dict[str, UUID] = {}
    for key, value in data.items():
        if isinstance(value, dict) and "$ref" in value:
            target = value["$ref"]
            raw_id = (
                target.get("block_document_id") if isinstance(target, dict) else None
            )
            try:
                references[key] = UUID(str(raw_id))
            except ValueError:
                raise InvalidRequest(
                    f"data.{key}: a $ref must contain a block_document_id UUID, "
                    f"got {target!r}."
                ) from None
        else:
            plain[key] = value
    return plain, references
