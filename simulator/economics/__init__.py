"""Pure USD functions: per-request API pricing, GPU, facility and staff costs, and the ledger."""
