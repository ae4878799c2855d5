"""Storage: SQLAlchemy 2 models, engine, repository functions and Alembic migrations."""
