"""cta assets (in progress)."""
