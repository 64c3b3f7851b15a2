"""Helpers shared by test modules (no test module imports another): importable as
``helpers`` because pyproject.toml puts tests/ on the pytest path."""
