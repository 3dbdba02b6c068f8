"""Side-by-side benchmarks of Podium against Prefect 3.9.1's own server.

Run `.venv/bin/python -m bench --help` (or `bench/run --help`) from the
repository root. Figures are recorded in docs/benchmarks.md.
"""
