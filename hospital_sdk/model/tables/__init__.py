"""The contract's tables, one module per business domain."""
