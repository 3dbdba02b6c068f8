"""Podium: a workflow-orchestration server that speaks the Prefect 3 REST API."""

__version__ = "0.1.0"

# The Prefect server release whose REST API Podium implements. Prefect 3 clients
# compare the major version of `GET /admin/version` with their own and refuse a
# server whose major version differs.
PREFECT_COMPATIBLE_VERSION = "3.9.1"

# The version of the REST API schema itself, as `GET /version` returns it.
API_VERSION = "0.8.4"
