"""Anti-splitting (化整为零): running totals of non-tender purchases and the alerts they raise."""
