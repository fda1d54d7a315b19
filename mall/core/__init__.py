"""The kernel every package may use: database base, errors, money, clock, audit and auth."""
