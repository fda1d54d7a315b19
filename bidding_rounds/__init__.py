"""Mall quick bidding and admitted-supplier bidding: rounds, quotes, evaluation, award."""
