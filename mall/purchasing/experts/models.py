"""Random expert acceptance (models; placeholder until the part lands)."""
