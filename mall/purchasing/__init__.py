"""The purchasing core: budget lines and limits, cart and checkout, orders, contracts and
public notices, payments, acceptance and ratings."""
