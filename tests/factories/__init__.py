"""Factories that build valid domain objects for tests, one module per domain."""
