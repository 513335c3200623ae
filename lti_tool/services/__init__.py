"""Services: the use cases, each a small typed function over a database session."""
