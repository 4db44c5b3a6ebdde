"""Use cases and the ports they need. Knows the domain, never an adapter."""
