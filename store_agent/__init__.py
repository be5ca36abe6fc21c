"""The store agent: the store's SQLite ledger, the POS terminal API and the sync client.

The package itself imports nothing, so pure modules (``store_agent.barcodes``) can be used by
the settings without pulling in the web application; the app is ``store_agent.app``.
"""
