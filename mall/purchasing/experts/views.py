"""Random expert acceptance (views; placeholder until the part lands)."""
