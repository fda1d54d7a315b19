"""Timed jobs of the suppliers package."""
