"""One module per workload; each exposes a `WORKLOAD` description."""
