"""Background services: loops that keep the orchestration state moving."""
