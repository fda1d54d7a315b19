"""Operator and supervisor consoles: views over every domain's services."""
