"""The SQLAlchemy store for SQLite, MySQL/MariaDB and PostgreSQL."""
