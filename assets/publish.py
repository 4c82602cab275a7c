"""Publishing assets (in progress)."""
