"""The hypothesis ledger: every test the project has run, append-only, with false-discovery
control over all of them (store: SQLite storage; rows: ids and table readers; fdr: q-values)."""

from eventlab.ledger.store import count_trials, ledger_path

__all__ = ["count_trials", "ledger_path"]
