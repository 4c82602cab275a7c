"""report assets (in progress)."""
