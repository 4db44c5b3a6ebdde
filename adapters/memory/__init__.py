"""Working in-memory adapters: the embedded fakes that pass the same contract suites as the real ones."""
