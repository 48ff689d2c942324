"""The database: engine and sessions, models, migrations, the record reads and writers, and
the outbox."""
