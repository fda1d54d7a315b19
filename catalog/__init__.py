"""Categories (品目), products, offers, price history and search."""
