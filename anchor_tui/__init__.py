"""anchor-tui: a keyboard-driven case board for Anchor teams."""

__version__ = "0.1.0"
