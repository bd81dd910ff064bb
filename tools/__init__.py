"""Developer tools run as modules: ``python -m tools.run_demo``, ``tools.postgres_suite``."""
