"""Supplier performance scores and sanctions."""
