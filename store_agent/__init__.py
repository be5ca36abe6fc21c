"""The store agent: the store's SQLite ledger, the POS terminal API and the sync client."""

from store_agent.app import create_app

__all__ = ["create_app"]
