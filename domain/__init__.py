"""Tokowa's domain: products, wallets and orders, and the rules of money. Pure Python, no I/O."""
