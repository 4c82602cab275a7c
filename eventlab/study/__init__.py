"""The gap-up / close-red event study: open quality, detection, forward returns, statistics."""
