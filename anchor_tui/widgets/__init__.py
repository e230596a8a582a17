"""Reusable widgets: case cards, stage columns, and plain-text rendering of user text."""
