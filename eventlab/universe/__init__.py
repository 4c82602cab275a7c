"""Universe studies: the index study's event definition run per ticker over a named list of
tickers (split/dividend-adjusted), pooled across tickers, and the breadth of index event days."""
