"""Random expert acceptance (services; placeholder until the part lands)."""
