"""One router per resource of the Prefect REST API."""
