"""Short-rate arithmetic (fed funds futures -> FOMC meeting probabilities)."""
