"""Persistence: models, engines, sessions with the disclosure filter, migrations."""
