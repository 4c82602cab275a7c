"""charts assets (in progress)."""
