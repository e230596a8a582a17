"""The snapshot tests use the UI tests' demo database (seeded for a fixed day)."""

from tests.ui.conftest import demo_backend, demo_db_template, demo_settings, make_app

__all__ = ["demo_backend", "demo_db_template", "demo_settings", "make_app"]
