"""What `bench national` does to and reads from the schema: hash partitions to measure, sizes.

The national node's schema is the migrations'; `partition` rebuilds its two identity tables as
hash-partitioned ones (on resident_code, the key of every lookup but the four items) so that a
run can measure what partitioning costs or gains at size, before anyone migrates to it.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from psycopg import sql

from bench.common import psycopg_connection
from juki.nodes.identity_load import index_definitions

TABLES: Final = ("identity_copies", "identity_changes")
_SEQUENCE: Final = "identity_changes_change_id_seq"
# Each identity table (its TOAST included) and each of its indexes, partitions summed.
_SIZES: Final = """
SELECT CASE WHEN c.relkind IN ('r', 'p') THEN 'table ' ELSE 'index ' END || c.relname,
       CASE WHEN c.relkind IN ('p', 'I')
            THEN (SELECT coalesce(sum(pg_table_size(p.relid)), 0)
                  FROM pg_partition_tree(c.oid) AS p)
            ELSE pg_table_size(c.oid) END
FROM pg_class AS c
LEFT JOIN pg_index AS x ON x.indexrelid = c.oid
LEFT JOIN pg_class AS t ON t.oid = x.indrelid
WHERE c.relnamespace = current_schema()::regnamespace
  AND (c.relname = ANY(%(t)s) OR t.relname = ANY(%(t)s))
ORDER BY c.relkind DESC, c.relname
"""


def partition(engine: sa.Engine, partitions: int) -> None:
    """identity_copies and identity_changes as `partitions` hash partitions on resident_code,
    with the same columns, defaults and indexes (a primary key must hold the partition key:
    identity_changes' becomes (change_id, resident_code))."""
    raw = engine.raw_connection()
    try:
        conn = psycopg_connection(raw)
        indexes = index_definitions(conn)
        conn.execute(sql.SQL("ALTER SEQUENCE {} OWNED BY NONE").format(sql.Identifier(_SEQUENCE)))
        for table in TABLES:
            new = sql.Identifier(f"{table}_partitioned")
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS) PARTITION BY HASH (resident_code)"
                ).format(new, sql.Identifier(table))
            )
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
            conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(new, sql.Identifier(table)))
            for i in range(partitions):
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} PARTITION OF {} FOR VALUES WITH (MODULUS {}, REMAINDER {})"
                    ).format(
                        sql.Identifier(f"{table}_p{i}"),
                        sql.Identifier(table),
                        sql.Literal(partitions),
                        sql.Literal(i),
                    )
                )
        conn.execute(
            sql.SQL("ALTER SEQUENCE {} OWNED BY identity_changes.change_id").format(
                sql.Identifier(_SEQUENCE)
            )
        )
        for index in indexes:
            if index.create == "PRIMARY KEY (change_id)":
                index = type(index)(
                    index.table, index.name, "PRIMARY KEY (change_id, resident_code)", True
                )
            conn.execute(index.build())
        conn.commit()
    finally:
        raw.close()


def sizes(engine: sa.Engine) -> list[tuple[str, int]]:
    """Bytes of the database, of each identity table (with its partitions and TOAST) and of
    each of their indexes (summed over partitions)."""
    with engine.connect() as conn:
        database = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
        tables = conn.exec_driver_sql(_SIZES, {"t": list(TABLES)}).all()
    return [("database", int(database)), *((name, int(n)) for name, n in tables)]
