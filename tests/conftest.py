"""Shared fixtures. The Feishu sandbox fixtures live in tests/sandbox_fixtures.py."""

pytest_plugins = ["tests.sandbox_fixtures"]
