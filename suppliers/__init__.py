"""Supplier organisations, admission, framework agreements, listing review, bulk import and API."""
