"""Reading, validating and storing price data (snapshot, live yfinance, local warehouse)."""
