"""Storage adapters: engines, tables, migrations and the unit of work."""
