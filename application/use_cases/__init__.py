"""One handler per use case: constructor-injected ports, `async __call__`, one unit of work."""
