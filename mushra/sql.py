"""Plain SQL for the two requests a listener makes per trial: its audio and its ratings POST.

Everything else goes through the ORM. These two run for every trial of every listener, and
building their queries with the ORM cost more than running them: under a crowd the ratings POST
spent seven tenths of the web process's time compiling querysets and making model instances.
On PostgreSQL they run as prepared statements kept by the (persistent) connection, so they are
planned once per connection, not per request; Django's cursors bind on the client and cannot
prepare, so these go through psycopg directly, with Django's error wrapping (an IntegrityError
is Django's) and inside Django's transactions.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection


def table(model) -> str:
    return model._meta.db_table


def fetch(sql: str, params: list) -> list[tuple]:
    """The rows `sql` selects."""
    with _cursor() as (run, cursor):
        run(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: list) -> int:
    """Runs a write; the number of rows it changed."""
    with _cursor() as (run, cursor):
        run(sql, params)
        return cursor.rowcount


def for_update_of(alias: str) -> str:
    """A row lock on `alias`'s rows only (SQLite locks the whole database on write anyway)."""
    return f" FOR UPDATE OF {alias}" if connection.vendor == "postgresql" else ""


def timestamp(value):
    """A datetime as a parameter of these statements (SQLite keeps them as naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


@contextmanager
def _cursor():
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:  # Django's: %s placeholders, its error wrapping
            yield cursor.execute, cursor
        return
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield (
            (
                lambda sql, params: cursor.execute(
                    sql, params, prepare=settings.DB_PREPARE_STATEMENTS
                )
            ),
            cursor,
        )


def parse_timestamp(value):
    """A timestamp column as a raw cursor returns it, as an aware datetime: SQLite's are naive
    UTC (text or datetime), PostgreSQL's already aware."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
