"""The real Prefect 3.9.1 client and CLI against Podium's blocks, variables,
artifacts and concurrency limits."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import uuid
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

CLI_TIMEOUT = 90

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def _token() -> str:
    return uuid.uuid4().hex[:8]


def _overlapping(spans: list[list[float]], slack: float = 0.05) -> list[Any]:
    """Return each pair of consecutive spans where the later starts before the
    earlier ends (allowing `slack` seconds for clock jitter)."""
    ordered = sorted(spans)
    return [
        (earlier, later)
        for earlier, later in pairwise(ordered)
        if later[0] < earlier[1] - slack
    ]


@pytest.fixture
def prefect_cli(prefect_python: Path, podium_api_url: str, tmp_path: Path) -> CliRunner:
    """Run the real `prefect` CLI against Podium and fail the test on a non-zero exit."""
    executable = prefect_python.parent / "prefect"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_API_URL=podium_api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
        PREFECT_CLI_PROMPT="false",
        DO_NOT_TRACK="1",
        # A wide terminal keeps rich tables from truncating names.
        COLUMNS="300",
    )

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(executable), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
        if check:
            assert result.returncode == 0, (
                f"prefect {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
            )
        return result

    return run


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_secret_block_hidden_unless_requested(
    run_flow_script: Any, api: httpx.Client
) -> None:
    name = f"secret-{_token()}"
    value = f"hunter-{_token()}"
    output = run_flow_script(
        f"""
        import json
        from prefect.blocks.system import Secret

        document_id = Secret(value={value!r}).save({name!r})
        loaded = Secret.load({name!r}).get()
        print(json.dumps({{"id": str(document_id), "loaded": loaded}}))
        """
    )

    hidden = _ok(api.get(f"/block_documents/{output['id']}"))
    revealed = _ok(
        api.get(f"/block_documents/{output['id']}", params={"include_secrets": "true"})
    )
    by_name = _ok(api.get(f"/block_types/slug/secret/block_documents/name/{name}"))

    assert output["loaded"] == value
    assert hidden["name"] == name
    assert hidden["block_type"]["slug"] == "secret"
    assert value not in json.dumps(hidden)
    assert hidden["data"]["value"] != value
    assert revealed["data"]["value"] == value
    assert by_name["id"] == output["id"]


def test_custom_block_round_trip(run_flow_script: Any, api: httpx.Client) -> None:
    token = _token()
    slug = f"e2e-settings-{token}"
    payload = {"nested": {"k": [1, 2]}, "on": True, "label": None}
    output = run_flow_script(
        f"""
        import json
        from prefect.blocks.core import Block

        class E2eSettings(Block):
            _block_type_name = "E2E Settings {token}"
            _block_type_slug = {slug!r}
            label: str
            payload: dict = {{}}

        document_id = E2eSettings(label="first", payload={payload!r}).save("main")
        loaded = E2eSettings.load("main")
        print(json.dumps({{
            "id": str(document_id),
            "label": loaded.label,
            "payload": loaded.payload,
        }}))
        """
    )

    block_type = _ok(api.get(f"/block_types/slug/{slug}"))
    document = _ok(api.get(f"/block_documents/{output['id']}"))

    assert output["label"] == "first"
    assert output["payload"] == payload
    assert block_type["name"] == f"E2E Settings {token}"
    assert document["data"]["payload"] == payload
    assert document["block_type"]["slug"] == slug


def test_block_register_cli_adds_block_type(
    prefect_cli: CliRunner, api: httpx.Client, tmp_path: Path
) -> None:
    token = _token()
    slug = f"e2e-registered-{token}"
    module = tmp_path / f"e2e_blocks_{token}.py"
    module.write_text(
        textwrap.dedent(
            f"""
            from prefect.blocks.core import Block


            class E2eRegistered(Block):
                _block_type_name = "E2E Registered {token}"
                _block_type_slug = {slug!r}
                endpoint: str = "http://127.0.0.1:1"
                options: dict = {{}}
            """
        )
    )

    prefect_cli("block", "register", "-f", str(module))
    listed = prefect_cli("block", "type", "ls").stdout
    block_type = _ok(api.get(f"/block_types/slug/{slug}"))
    schemas = _ok(
        api.post(
            "/block_schemas/filter",
            json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}},
        )
    )

    assert block_type["name"] == f"E2E Registered {token}"
    assert slug in listed
    assert len(schemas) == 1
    assert {"endpoint", "options"} <= set(schemas[0]["fields"]["properties"])


def test_variable_cli_round_trip(prefect_cli: CliRunner, api: httpx.Client) -> None:
    name = f"e2e_var_{_token()}"

    prefect_cli("variable", "set", name, "hello-world")
    first = prefect_cli("variable", "get", name).stdout
    stored = _ok(api.get(f"/variables/name/{name}"))
    prefect_cli("variable", "set", name, '{"a": 1}', "--overwrite")
    second = prefect_cli("variable", "get", name).stdout
    listed = prefect_cli("variable", "ls").stdout
    prefect_cli("variable", "unset", name)
    missing = prefect_cli("variable", "get", name, check=False)

    assert json.loads(first) == "hello-world"
    assert stored["value"] == "hello-world"
    assert json.loads(second) == {"a": 1}
    assert name in listed
    assert api.get(f"/variables/name/{name}").status_code == 404
    assert missing.returncode != 0


@pytest.mark.timeout(180)
def test_flow_artifacts_readable_by_key(
    run_flow_script: Any, prefect_cli: CliRunner, api: httpx.Client
) -> None:
    token = _token()
    markdown_key = f"md-{token}"
    table_key = f"table-{token}"
    rows = [{"city": "Oslo", "temp": 3}, {"city": "Lima", "temp": 19}]
    output = run_flow_script(
        f"""
        import json
        from prefect import flow
        from prefect.artifacts import create_markdown_artifact, create_table_artifact

        @flow(name="e2e-artifacts")
        def report():
            create_markdown_artifact(
                "# Report {token}", key={markdown_key!r}, description="weekly"
            )
            create_table_artifact({rows!r}, key={table_key!r})

        state = report(return_state=True)
        print(json.dumps({{"id": str(state.state_details.flow_run_id)}}))
        """
    )

    markdown = _ok(api.get(f"/artifacts/{markdown_key}/latest"))
    table = _ok(api.get(f"/artifacts/{table_key}/latest"))
    table_data = table["data"]
    if isinstance(table_data, str):
        table_data = json.loads(table_data)
    listed = prefect_cli("artifact", "ls").stdout

    assert markdown["type"] == "markdown"
    assert markdown["data"] == f"# Report {token}"
    assert markdown["description"] == "weekly"
    assert markdown["flow_run_id"] == output["id"]
    assert table["type"] == "table"
    assert table_data == rows
    assert table["flow_run_id"] == output["id"]
    assert markdown_key in listed
    assert table_key in listed


@pytest.mark.timeout(180)
def test_tag_concurrency_limit_serialises_tasks(
    run_flow_script: Any, prefect_cli: CliRunner, api: httpx.Client
) -> None:
    tag = f"e2e-tag-{_token()}"
    prefect_cli("concurrency-limit", "create", tag, "1")
    limit = _ok(api.get(f"/concurrency_limits/tag/{tag}"))
    output = run_flow_script(
        f"""
        import json
        import time
        from prefect import flow, task

        @task(tags=[{tag!r}])
        def guarded(i):
            start = time.monotonic()
            time.sleep(1.0)
            return [start, time.monotonic()]

        @flow(name="e2e-tag-limit")
        def limited():
            futures = [guarded.submit(i) for i in range(2)]
            return [future.result() for future in futures]

        print(json.dumps({{"spans": limited()}}))
        """,
        timeout=150,
    )

    assert limit["concurrency_limit"] == 1
    assert len(output["spans"]) == 2
    assert _overlapping(output["spans"]) == []


@pytest.mark.timeout(180)
def test_global_limit_serialises_threads(
    run_flow_script: Any, prefect_cli: CliRunner, api: httpx.Client
) -> None:
    name = f"e2e-gcl-{_token()}"
    prefect_cli("gcl", "create", name, "--limit", "1")
    created = _ok(api.get(f"/v2/concurrency_limits/{name}"))
    output = run_flow_script(
        f"""
        import json
        import time
        from concurrent.futures import ThreadPoolExecutor
        from prefect.concurrency.sync import concurrency

        def guarded(i):
            with concurrency({name!r}, occupy=1):
                start = time.monotonic()
                time.sleep(1.0)
                return [start, time.monotonic()]

        with ThreadPoolExecutor(max_workers=2) as pool:
            spans = list(pool.map(guarded, range(2)))
        print(json.dumps({{"spans": spans}}))
        """,
        timeout=150,
    )
    after = _ok(api.get(f"/v2/concurrency_limits/{name}"))

    assert created["limit"] == 1
    assert created["active"] is True
    assert len(output["spans"]) == 2
    assert _overlapping(output["spans"]) == []
    assert after["active_slots"] == 0


@pytest.mark.timeout(180)
def test_rate_limit_throttles_calls(
    run_flow_script: Any, prefect_cli: CliRunner, api: httpx.Client
) -> None:
    name = f"e2e-rate-{_token()}"
    prefect_cli("gcl", "create", name, "--limit", "1", "--slot-decay-per-second", "2")
    created = _ok(api.get(f"/v2/concurrency_limits/{name}"))
    output = run_flow_script(
        f"""
        import json
        import time
        from prefect.concurrency.sync import rate_limit

        started = time.monotonic()
        for _ in range(4):
            rate_limit({name!r}, occupy=1)
        print(json.dumps({{"elapsed": time.monotonic() - started}}))
        """,
        timeout=150,
    )

    assert created["slot_decay_per_second"] == 2
    # The first call takes the one free slot, and each later call waits about
    # half a second for the occupied slot to decay.
    assert output["elapsed"] >= 1.0
    assert output["elapsed"] < 60


def test_block_ls_lists_saved_block(
    run_flow_script: Any, prefect_cli: CliRunner
) -> None:
    name = f"listed-{_token()}"
    run_flow_script(
        f"""
        import json
        from prefect.blocks.system import Secret

        Secret(value="not-shown").save({name!r})
        print(json.dumps({{}}))
        """
    )

    listed = prefect_cli("block", "ls").stdout

    assert name in listed
    assert "not-shown" not in listed
