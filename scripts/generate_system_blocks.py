"""Write Podium's built-in block types and schemas from a reference server.

Usage: python scripts/generate_system_blocks.py http://127.0.0.1:4470/api

The reference is a fresh Prefect 3.9.1 server. Slugs, names, fields,
checksums and capabilities are kept exactly, because clients look block
schemas up by checksum. Descriptions, examples and code samples are dropped,
so the output contains only the structure of each block.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx

OUTPUT = Path(__file__).parent.parent / "src/podium/storage/data/system_blocks.json"
SCHEMA_MAPPINGS = ("properties", "definitions", "$defs", "block_schema_references")


def strip_text(node: Any) -> Any:
    """Drop prose (`description`, `examples`) from a JSON schema, recursively."""
    if isinstance(node, list):
        return [strip_text(item) for item in node]
    if not isinstance(node, dict):
        return node
    stripped: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "examples") and not isinstance(value, dict):
            continue
        if key in SCHEMA_MAPPINGS and isinstance(value, dict):
            stripped[key] = {name: strip_text(sub) for name, sub in value.items()}
        else:
            stripped[key] = strip_text(value)
    return stripped


def main(api_url: str) -> None:
    with httpx.Client(base_url=api_url, timeout=30) as client:
        types = client.post("/block_types/filter", json={"limit": 200}).json()
        schemas = client.post("/block_schemas/filter", json={"limit": 200}).json()
    slug_by_id = {block_type["id"]: block_type["slug"] for block_type in types}
    output_types = [
        {
            "name": block_type["name"],
            "slug": block_type["slug"],
            "logo_url": block_type["logo_url"],
            "documentation_url": block_type["documentation_url"],
            "is_protected": block_type["is_protected"],
        }
        for block_type in sorted(types, key=lambda item: item["slug"])
    ]
    output_schemas = [
        {
            "block_type_slug": slug_by_id[schema["block_type_id"]],
            "checksum": schema["checksum"],
            "version": schema["version"],
            "capabilities": schema["capabilities"],
            "fields": strip_text(schema["fields"]),
        }
        for schema in sorted(schemas, key=lambda item: item["checksum"])
    ]
    document = {"block_types": output_types, "block_schemas": output_schemas}
    OUTPUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"Wrote {len(output_types)} block types and {len(output_schemas)} schemas.")


if __name__ == "__main__":
    main(sys.argv[1])
