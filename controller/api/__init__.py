"""HTTP API: thin routes over the domain services."""
