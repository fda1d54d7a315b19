"""Complaints (投诉) to the supervisor after a challenge answer (placeholder until the part lands)."""
