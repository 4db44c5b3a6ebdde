"""Plugins shared by every test suite."""

pytest_plugins = ["tests.fixtures.storage", "tests.fixtures.redis"]
