"""Event-study assets (in progress)."""
