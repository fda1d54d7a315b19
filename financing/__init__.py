"""Contract financing (政采贷): banks' products, suppliers' consents, the contract feed banks
pull, loans and the locked repayment account, webhooks to the banks."""
