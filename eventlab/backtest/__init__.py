"""Backtests: performance metrics and the two strategies (the CTA replica, the event signal)."""
