"""Storage: tables, queries and migrations, the same code on SQLite and PostgreSQL."""
