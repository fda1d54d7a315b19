"""Price monitoring: the daily inspection of listed offers, price cases and monthly reports."""
