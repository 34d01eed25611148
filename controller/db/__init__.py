"""Storage: engine, sessions, the ORM models and migrations."""
