"""Double-entry books posted from every store event as head office ingests it
(docs/accounting.md): the chart of accounts as data, pure posting rules, moving weighted
average cost per store and product, the journal with database-enforced balance, reports,
exports and verification."""
