"""The store: SQLAlchemy models, engine and set-based queries. Knows nothing of HTTP."""
