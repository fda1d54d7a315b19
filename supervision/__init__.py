"""Supervision (监管) and statistics: what the finance bureau and the trading centre watch and
act on: statistics of the mall's purchases, price monitoring, anti-splitting alerts, supplier
performance and sanctions. Sits beside financing and open data, above bidding rounds."""
