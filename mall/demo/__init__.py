"""Deterministic demo data (products, suppliers, purchasing units) for `mall seed-demo`."""
